// What a person's SQL sees of SQLite's timestamps. The warehouse stores them as INTEGER
// microseconds (docs/adr/0003-sqlite-schema.md: 8 bytes, integer comparisons, a fast ingest);
// `bikestream query` and `show` see them as RFC 3339 text that compares as instants, so the
// SQL a user writes from the notes' schema (`WHERE ts_iso >= '2024-10-13T00:00:00Z'`,
// `min(ts_iso)`) answers as it does on PostgreSQL and BigQuery. Private to the SQLite backend.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bikestream::sqlite {

// The collation under which timestamps compare as the instants they write: two texts in any form
// ParseTimestamp reads (`2024-10-13`, `2024-10-13 12:00:00+00`, RFC 3339) order by their
// instants; a text that is none (`2024-10`) compares byte by byte, as a prefix of a date reads.
inline constexpr const char* kInstantCollation = "INSTANT";

// Registers, on `db`, the function bikestream_rfc3339(x) (an INTEGER of microseconds as RFC
// 3339 text; anything else as it is) and kInstantCollation.
absl::Status RegisterReadableTime(sqlite3* db);

// While alive, every table of `db`'s main schema that has TIMESTAMP columns is shadowed by a
// TEMP view of the same name whose timestamps are RFC 3339 text under kInstantCollation (SQLite
// looks a name up in TEMP first). Only for statements that read: a view cannot be written, and
// the warehouse's own statements must see the tables, so the views are dropped at the end.
class ReadableTimeViews {
 public:
  static absl::StatusOr<ReadableTimeViews> Create(sqlite3* db);
  ReadableTimeViews(ReadableTimeViews&& other) noexcept;
  ReadableTimeViews& operator=(ReadableTimeViews&&) = delete;
  ~ReadableTimeViews();

 private:
  explicit ReadableTimeViews(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::vector<std::string> views_;  // Quoted names.
};

}  // namespace bikestream::sqlite
