// The entity file of a point-in-time training set (`training-set --labels FILE`): CSV with a
// header `station_id,ts[,label…]` (RFC 4180 quoting), one row per station and instant, its
// label columns kept as given. Each row gets the features as of the latest tick <= ts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time.h"
#include "event/line_reader.h"

namespace bikestream {

struct LabelRow {
  std::string station_id;
  TimestampMicros ts = 0;
  std::vector<std::string> labels;
};

struct Labels {
  std::vector<std::string> columns;  // Names of the label columns.
  std::vector<LabelRow> rows;
};

// One CSV record's fields (RFC 4180 quoting: "" is a quote inside a quoted field; a \r dropped).
std::vector<std::string> SplitCsvRecord(std::string_view line);

// The labels `reader` holds (built with limits::kLabelsLine); errors say `name`:LINE: and what
// is wrong (a header without station_id,ts, a row with another number of fields, a ts that is
// not RFC 3339, a line past the bound). Blank lines are skipped.
absl::StatusOr<Labels> ParseLabels(LineReader& reader, std::string_view name);

// Reads the labels file at `path`: a regular file, or a pipe (`--labels <(make-labels)`); what
// else would block or never end (a directory, /dev/zero) is refused.
absl::StatusOr<Labels> ReadLabelsFile(const std::string& path);

}  // namespace bikestream
