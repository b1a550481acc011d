#include "warehouse/sqlite/readable_time.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <string_view>

#include "event/timestamp.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {
namespace {

void Rfc3339Function(sqlite3_context* context, int /*argc*/, sqlite3_value** argv) {
  sqlite3_value* value = argv[0];
  if (sqlite3_value_type(value) == SQLITE_INTEGER) {
    const TimestampMicros micros = sqlite3_value_int64(value);
    if (InTimestampRange(micros)) {
      const std::string text = FormatRfc3339(micros);
      sqlite3_result_text(context, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      return;
    }
  }
  sqlite3_result_value(context, value);
}

// The instant a text writes, if it is a timestamp, remembering the last text it was asked: one
// memory per side of the comparison, so that a scan comparing each row with one literal
// (`ts_iso >= '2024-10-13'`) parses the literal once, not once a row.
class InstantMemory {
 public:
  std::optional<TimestampMicros> Of(std::string_view text) {
    if (known_ && text == text_) return instant_;
    instant_.reset();
    // Every timestamp starts with a digit: other text skips the parser and its error message.
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
      if (auto parsed = ParseTimestamp(text); parsed.ok()) instant_ = *parsed;
    }
    text_.assign(text);
    known_ = true;
    return instant_;
  }

 private:
  bool known_ = false;
  std::string text_;
  std::optional<TimestampMicros> instant_;
};

int Sign(int comparison) { return (comparison > 0) - (comparison < 0); }

// Two timestamps compare as instants. A timestamp and a text that is none (`'2024-10'`, which
// PostgreSQL would refuse) compare byte by byte, so that a prefix of a date still means what it
// reads as; that is text RFC 3339 sorts by anyway, to the second.
int CompareInstants(void* /*unused*/, int left_size, const void* left, int right_size,
                    const void* right) {
  thread_local InstantMemory left_memory, right_memory;
  const std::string_view a(static_cast<const char*>(left), static_cast<std::size_t>(left_size));
  const std::string_view b(static_cast<const char*>(right), static_cast<std::size_t>(right_size));
  if (a == b) return 0;
  const std::optional<TimestampMicros> x = left_memory.Of(a);
  const std::optional<TimestampMicros> y = right_memory.Of(b);
  if (x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
  return Sign(a.compare(b));
}

// The quoted names of `table`'s columns, those declared TIMESTAMP as readable text.
absl::StatusOr<std::string> ReadableColumns(sqlite3* db, const std::string& table,
                                            bool* has_timestamp) {
  auto stmt = Statement::Prepare(
      db, "SELECT name, upper(type) FROM pragma_table_info(?1, 'main') ORDER BY cid");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, table);
  std::string columns;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    const std::string name = QuoteIdentifier(ColumnText(stmt->get(), 0));
    if (!columns.empty()) columns += ", ";
    if (ColumnText(stmt->get(), 1) == "TIMESTAMP") {
      *has_timestamp = true;
      columns += fmt::format("bikestream_rfc3339({0}) COLLATE {1} AS {0}", name, kInstantCollation);
    } else {
      columns += name;
    }
  }
  if (rc != SQLITE_DONE) return Error(db, "reading the columns of " + table);
  return columns;
}

}  // namespace

absl::Status RegisterReadableTime(sqlite3* db) {
  if (sqlite3_create_function(db, "bikestream_rfc3339", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                              nullptr, &Rfc3339Function, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_create_collation(db, kInstantCollation, SQLITE_UTF8, nullptr, &CompareInstants) !=
          SQLITE_OK) {
    return Error(db, "registering the timestamp function");
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadableTimeViews> ReadableTimeViews::Create(sqlite3* db) {
  ReadableTimeViews views(db);
  auto tables = Statement::Prepare(db,
                                   "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
  if (!tables.ok()) return tables.status();
  std::vector<std::string> names;
  int rc;
  while ((rc = sqlite3_step(tables->get())) == SQLITE_ROW)
    names.push_back(ColumnText(tables->get(), 0));
  if (rc != SQLITE_DONE) return Error(db, "listing the tables");
  for (const std::string& name : names) {
    bool has_timestamp = false;
    auto columns = ReadableColumns(db, name, &has_timestamp);
    if (!columns.ok()) return columns.status();
    if (!has_timestamp) continue;
    const std::string quoted = QuoteIdentifier(name);
    if (auto status = Exec(db, fmt::format("CREATE TEMP VIEW {} AS SELECT {} FROM main.{}", quoted,
                                           *columns, quoted));
        !status.ok()) {
      return status;
    }
    views.views_.push_back(quoted);
  }
  return views;
}

ReadableTimeViews::ReadableTimeViews(ReadableTimeViews&& other) noexcept
    : db_(other.db_), views_(std::move(other.views_)) {
  other.views_.clear();
}

ReadableTimeViews::~ReadableTimeViews() {
  for (const std::string& view : views_)
    (void)Exec(db_, fmt::format("DROP VIEW IF EXISTS temp.{}", view));
}

}  // namespace bikestream::sqlite
