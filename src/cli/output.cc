#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "common/json_text.h"
#include "common/print.h"

namespace bikestream {
namespace {

// Display width in code points: good enough for the text a warehouse holds.
std::size_t DisplayWidth(std::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

std::string Shorten(const std::string& text, std::size_t max_chars) {
  if (max_chars == 0 || DisplayWidth(text) <= max_chars) return text;
  std::string out;
  std::size_t chars = 0;
  for (char c : text) {
    if ((c & 0xC0) != 0x80 && ++chars > max_chars - 1) break;
    out.push_back(c);
  }
  return out + "…";
}

// Control characters would break the box; show them escaped.
std::string Printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(char(c));
    }
  }
  return out;
}

void PrintBoxed(std::FILE* out, const QueryResult& result, std::size_t max_cell_chars) {
  const std::size_t columns = result.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths(columns);
  for (std::size_t c = 0; c < columns; ++c) widths[c] = DisplayWidth(result.columns[c]);
  for (const auto& row : result.rows) {
    auto& texts = cells.emplace_back();
    for (std::size_t c = 0; c < columns; ++c) {
      texts.push_back(Shorten(Printable(row[c].text), max_cell_chars));
      widths[c] = std::max(widths[c], DisplayWidth(texts.back()));
    }
  }
  std::string rule = "+";
  for (std::size_t width : widths) rule += std::string(width + 2, '-') + "+";
  auto print_row = [&](const std::vector<std::string>& texts, auto right_aligned) {
    std::string line = "|";
    for (std::size_t c = 0; c < columns; ++c) {
      const std::size_t pad = widths[c] - DisplayWidth(texts[c]);
      line += right_aligned(c) ? " " + std::string(pad, ' ') + texts[c] + " |"
                               : " " + texts[c] + std::string(pad, ' ') + " |";
    }
    Print(out, "{}\n", line);
  };
  Print(out, "{}\n", rule);
  // Headers are centred, as bq prints them.
  std::string header = "|";
  for (std::size_t c = 0; c < columns; ++c) {
    const std::size_t pad = widths[c] - DisplayWidth(result.columns[c]);
    header += " " + std::string(pad / 2, ' ') + result.columns[c] +
              std::string(pad - pad / 2, ' ') + " |";
  }
  Print(out, "{}\n{}\n", header, rule);
  for (std::size_t r = 0; r < cells.size(); ++r) {
    print_row(cells[r], [&](std::size_t c) { return result.rows[r][c].is_number; });
  }
  if (!cells.empty()) Print(out, "{}\n", rule);
}

std::string CsvField(const QueryResult::Cell& cell) {
  if (cell.is_null) return "";
  if (cell.text.find_first_of(",\"\r\n") == std::string::npos) return cell.text;
  std::string quoted = "\"";
  for (char c : cell.text) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  return quoted + "\"";
}

}  // namespace

absl::StatusOr<TableFormat> ParseTableFormat(std::string_view name) {
  if (name == "table") return TableFormat::kTable;
  if (name == "csv") return TableFormat::kCsv;
  if (name == "json") return TableFormat::kJson;
  return absl::InvalidArgumentError(
      fmt::format("unknown format '{}': use table, csv or json", name));
}

void PrintResult(std::FILE* out, const QueryResult& result, TableFormat format,
                 std::size_t max_cell_chars) {
  if (result.columns.empty()) {
    Print(stderr, "done: {} rows changed\n", result.rows_changed);
    return;
  }
  switch (format) {
    case TableFormat::kTable:
      PrintBoxed(out, result, max_cell_chars);
      return;
    case TableFormat::kCsv: {
      QueryResult::Cell header;
      for (std::size_t c = 0; c < result.columns.size(); ++c) {
        header.text = result.columns[c];
        Print(out, "{}{}", c ? "," : "", CsvField(header));
      }
      Print(out, "\n");
      for (const auto& row : result.rows) {
        for (std::size_t c = 0; c < row.size(); ++c)
          Print(out, "{}{}", c ? "," : "", CsvField(row[c]));
        Print(out, "\n");
      }
      return;
    }
    case TableFormat::kJson:
      // One JSON object per line, as `bq query --format=json` users pipe into jq.
      for (const auto& row : result.rows) {
        std::string line = "{";
        for (std::size_t c = 0; c < row.size(); ++c) {
          const auto& cell = row[c];
          line += fmt::format("{}{}:{}", c ? "," : "", JsonQuote(result.columns[c]),
                              JsonScalar(cell.text, cell.is_null, cell.is_number));
        }
        Print(out, "{}}}\n", line);
      }
      return;
  }
}

std::string SummaryJson(const IngestStats& stats, double seconds) {
  const double rate = seconds > 0 ? double(stats.received) / seconds : 0;
  return fmt::format(
      R"({{"received":{},"stored":{},"duplicates":{},"dead_lettered":{},"seconds":{:.3f},"events_per_s":{:.0f}}})",
      stats.received, stats.stored, stats.duplicates, stats.dead_lettered, seconds, rate);
}

std::string SummaryLine(const IngestStats& stats, double seconds) {
  const double rate = seconds > 0 ? double(stats.received) / seconds : 0;
  return fmt::format(
      "received {}, stored {}, duplicates {}, dead-lettered {} in {:.1f} s ({:.{}f} events/s)",
      stats.received, stats.stored, stats.duplicates, stats.dead_lettered, seconds, rate,
      rate < 100 ? 1 : 0);
}

}  // namespace bikestream
