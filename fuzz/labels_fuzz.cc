// libFuzzer target: the labels CSV of `training-set --labels` gives rows or an error that names
// where, never a crash; every row has the header's number of label columns.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "features/labels.h"

namespace {

constexpr std::size_t kMaxLineBytes = 256;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  bikestream::LineReader reader(
      [&](char* out, std::size_t capacity) -> absl::StatusOr<std::size_t> {
        const std::size_t n = std::min(capacity, input.size() - at);
        std::memcpy(out, input.data() + at, n);
        at += n;
        return n;
      },
      kMaxLineBytes);
  auto labels = bikestream::ParseLabels(reader, "fuzz.csv");
  if (!labels.ok()) {
    Check(labels.status().message().substr(0, 8) == "fuzz.csv");
    return 0;
  }
  for (const bikestream::LabelRow& row : labels->rows)
    Check(row.labels.size() == labels->columns.size());
  return 0;
}
