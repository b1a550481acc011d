// libFuzzer target: the JSON-lines reader over any bytes hands out lines within the size limit
// that cover the input, and each line gives an event or a reason.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "event/event.h"
#include "event/line_reader.h"

namespace {

constexpr std::size_t kMaxLineBytes = 64;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bikestream::EventParser parser;
  const int fd = memfd_create("fuzz-input", 0);
  Check(fd >= 0);
  Check(write(fd, data, size) == static_cast<ssize_t>(size));
  lseek(fd, 0, SEEK_SET);
  bikestream::LineReader reader(fd, kMaxLineBytes);
  std::size_t bytes_seen = 0;
  std::uint64_t expected_number = 1;
  while (true) {
    auto line = reader.Next();
    Check(line.ok());
    if (!line->has_value()) break;
    const bikestream::Line& current = **line;
    Check(current.text.size() <= kMaxLineBytes);
    Check(current.number == expected_number++);
    bytes_seen += current.text.size();
    bikestream::ParseResult result = parser.Parse(current.text);
    Check(std::holds_alternative<bikestream::Event>(result) ||
          !std::get<bikestream::Rejection>(result).message.empty());
  }
  Check(bytes_seen <= size);
  close(fd);
  return 0;
}
