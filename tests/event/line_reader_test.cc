#include "event/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace bikestream {
namespace {

// Writes `input` into a pipe from another thread and collects what the reader hands out.
std::vector<Line> ReadAll(const std::string& input, std::size_t max_line_bytes,
                          std::vector<std::string>* texts) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::thread writer([&] {
    for (std::size_t offset = 0; offset < input.size();) {
      // Small writes exercise lines that straddle reads.
      ssize_t n =
          write(fds[1], input.data() + offset, std::min<std::size_t>(7, input.size() - offset));
      if (n <= 0) break;
      offset += n;
    }
    close(fds[1]);
  });
  LineReader reader(fds[0], max_line_bytes);
  std::vector<Line> lines;
  while (true) {
    auto line = reader.Next();
    EXPECT_TRUE(line.ok());
    if (!line.ok() || !line->has_value()) break;
    texts->emplace_back((*line)->text);
    lines.push_back(**line);
  }
  writer.join();
  close(fds[0]);
  return lines;
}

TEST(LineReader, SplitsLinesAcrossReads) {
  std::vector<std::string> texts;
  auto lines = ReadAll("first\nsecond line\r\n\nlast without newline", 100, &texts);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0], "first");
  EXPECT_EQ(texts[1], "second line");
  EXPECT_EQ(texts[2], "");
  EXPECT_EQ(texts[3], "last without newline");
  EXPECT_EQ(lines[3].number, 4u);
  for (const Line& line : lines) EXPECT_FALSE(line.truncated);
}

TEST(LineReader, TruncatesOverlongLinesAndCarriesOn) {
  const std::string huge(5000, 'x');
  std::vector<std::string> texts;
  auto lines = ReadAll("ok\n" + huge + "\nafter\n" + huge, 16, &texts);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0], "ok");
  EXPECT_EQ(texts[1], std::string(16, 'x'));
  EXPECT_TRUE(lines[1].truncated);
  EXPECT_EQ(texts[2], "after");
  EXPECT_FALSE(lines[2].truncated);
  EXPECT_EQ(texts[3], std::string(16, 'x'));
  EXPECT_TRUE(lines[3].truncated);
}

TEST(LineReader, EmptyInputHasNoLines) {
  std::vector<std::string> texts;
  EXPECT_TRUE(ReadAll("", 16, &texts).empty());
}

}  // namespace
}  // namespace bikestream
