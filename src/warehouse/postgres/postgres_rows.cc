#include "warehouse/postgres/postgres_rows.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "warehouse/postgres/postgres_handle.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::postgres {
namespace {

// Type OIDs of pg_type, for printing query results.
constexpr Oid kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701,
              kTimestamp = 1114, kTimestampTz = 1184, kNumeric = 1700;

// PostgreSQL's ISO output (2025-10-18 16:24:11.5+00, in the session's UTC) as RFC 3339.
std::string IsoInstant(std::string_view text) {
  std::string rfc(text);
  if (rfc.size() > 10 && rfc[10] == ' ') rfc[10] = 'T';
  if (rfc.ends_with("+00")) {
    rfc.replace(rfc.size() - 3, 3, "Z");
  } else if (!rfc.ends_with("Z")) {
    rfc += "Z";  // timestamp without time zone: UTC by convention here.
  }
  auto parsed = ParseRfc3339(rfc);
  return parsed.ok() ? FormatRfc3339(*parsed) : std::string(text);
}

QueryResult::Cell CellOf(const PGresult* result, int row, int column) {
  QueryResult::Cell cell;
  if (PQgetisnull(result, row, column)) {
    cell.is_null = true;
    cell.text = "NULL";
    return cell;
  }
  const std::string_view text = Text(result, row, column);
  switch (PQftype(result, column)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kFloat4:
    case kFloat8:
    case kNumeric:
      cell.is_number = true;
      cell.text = text;
      break;
    case kTimestamp:
    case kTimestampTz:
      cell.text = IsoInstant(text);
      break;
    case kBytea: {
      // Dead-letter payloads: shown as text when they are text.
      std::string bytes = UnescapeBytes(PQgetvalue(result, row, column));
      cell.text = ValidUtf8(bytes) == bytes ? std::move(bytes) : std::string(text);
      break;
    }
    default:
      cell.text = text;
  }
  return cell;
}

}  // namespace

std::string_view Text(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}

std::int64_t Integer(const PGresult* result, int row, int column) {
  std::int64_t value = 0;
  const std::string_view text = Text(result, row, column);
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

double Real(const PGresult* result, int row, int column) {
  return std::strtod(PQgetvalue(result, row, column), nullptr);
}

Kind KindOf(std::string_view name) { return name == "pickup" ? Kind::kPickup : Kind::kDropoff; }

QueryResult ResultOf(const PGresult* result) {
  QueryResult query;
  const int columns = PQnfields(result);
  for (int c = 0; c < columns; ++c) query.columns.emplace_back(PQfname(result, c));
  for (int r = 0; r < PQntuples(result); ++r) {
    auto& row = query.rows.emplace_back();
    for (int c = 0; c < columns; ++c) row.push_back(CellOf(result, r, c));
  }
  if (columns == 0) {
    const char* changed = PQcmdTuples(const_cast<PGresult*>(result));
    query.rows_changed = *changed ? std::stoll(changed) : 0;
  }
  return query;
}

std::vector<FeatureRow> FeatureRowsOf(const PGresult* result, TimestampMicros as_of) {
  std::vector<FeatureRow> rows;
  rows.reserve(PQntuples(result));
  for (int r = 0; r < PQntuples(result); ++r) {
    rows.push_back(FeatureRow{std::string(Text(result, r, 0)), std::string(Text(result, r, 1)),
                              std::string(Text(result, r, 2)), Real(result, r, 3), as_of});
  }
  return rows;
}

}  // namespace bikestream::postgres
