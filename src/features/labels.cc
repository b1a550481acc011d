#include "features/labels.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "common/file.h"
#include "common/limits.h"
#include "common/status.h"
#include "event/timestamp.h"

namespace bikestream {
namespace {

// The file open for reading lines, blocking: a pipe's writer may be slower than this reader.
absl::StatusOr<UniqueFd> OpenLabels(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) {
    return absl::NotFoundError(fmt::format("cannot read labels file '{}': {}", path,
                                           std::generic_category().message(errno)));
  }
  if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode)) {
    return absl::InvalidArgumentError(
        fmt::format("labels file '{}' is not a file (a directory, a device)", path));
  }
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) {
    return absl::UnavailableError(fmt::format("cannot read labels file '{}'", path));
  }
  return fd;
}

// The next line of `reader`: nullopt at the end; an error naming the line past the bound.
absl::StatusOr<std::optional<Line>> NextLabelsLine(LineReader& reader, std::string_view name) {
  auto line = reader.Next();
  if (!line.ok()) return Prefixed(name, line.status());
  if (line->has_value() && (*line)->truncated) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: a line longer than {}: is it the labels CSV?", name, (*line)->number,
                    limits::BytesText(limits::kLabelsLine)));
  }
  return line;
}

}  // namespace

std::vector<std::string> SplitCsvRecord(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  return fields;
}

absl::StatusOr<Labels> ParseLabels(LineReader& reader, std::string_view name) {
  auto first = NextLabelsLine(reader, name);
  if (!first.ok()) return first.status();
  if (!first->has_value()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: empty; expected a header station_id,ts[,label…]", name));
  }
  const auto header = SplitCsvRecord((*first)->text);
  if (header.size() < 2 || header[0] != "station_id" || header[1] != "ts") {
    return absl::InvalidArgumentError(
        fmt::format("{}:1: the header must start with station_id,ts", name));
  }
  Labels labels;
  labels.columns.assign(header.begin() + 2, header.end());
  for (;;) {
    auto next = NextLabelsLine(reader, name);
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const Line& line = **next;
    if (line.text.empty()) continue;
    auto fields = SplitCsvRecord(line.text);
    if (fields.size() != header.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", name,
                                                    line.number, fields.size(), header.size()));
    }
    auto ts = ParseTimestamp(fields[1]);
    if (!ts.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: ts: {}", name, line.number, MessageOf(ts.status())));
    }
    labels.rows.push_back({std::move(fields[0]), *ts, {fields.begin() + 2, fields.end()}});
  }
  return labels;
}

absl::StatusOr<Labels> ReadLabelsFile(const std::string& path) {
  auto fd = OpenLabels(path);
  if (!fd.ok()) return fd.status();
  LineReader reader(fd->get(), limits::kLabelsLine);
  return ParseLabels(reader, path);
}

}  // namespace bikestream
