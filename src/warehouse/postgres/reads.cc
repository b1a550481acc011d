// Reading the PostgreSQL warehouse: SQL for a person, dead letters, events and their totals.
#include <fmt/format.h>

#include "absl/status/status.h"
#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/postgres/postgres_rows.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::postgres {

absl::StatusOr<QueryResult> PostgresWarehouse::Query(std::string_view sql) {
  // Not retried: the statement may not be idempotent.
  if (auto status = EnsureConnected(); !status.ok()) return status;
  auto result = Exec(connection_.get(), sql);
  if (!result.ok()) {
    if (MessageOf(result.status()).find("multiple commands") != std::string_view::npos) {
      return absl::InvalidArgumentError("query: give one SQL statement at a time");
    }
    return Prefixed("query failed", result.status());
  }
  return ResultOf(result->get());
}

absl::StatusOr<std::vector<DeadLetter>> PostgresWarehouse::ListDeadLetters(
    const DeadLetterFilter& filter) {
  const std::string sql = fmt::format(
      "SELECT id, {}, source, message_id, payload, reason, error, coalesce({}, 0) FROM {} "
      "WHERE id > CAST($1 AS bigint) AND (CAST($2 AS text) IS NULL OR reason = $2) "
      "ORDER BY id LIMIT CAST($3 AS bigint)",
      Micros("first_seen"), Micros("publish_time"), dead_);
  const std::string after = std::to_string(filter.after_id);
  const std::string limit = std::to_string(filter.limit);
  const std::string reason = filter.reason.value_or("");
  const Param params[] = {{after}, {reason, false, !filter.reason}, {limit}};
  return Read(sql, params, [](const PGresult* rows) {
    std::vector<DeadLetter> letters;
    letters.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      letters.push_back(DeadLetter{
          Integer(rows, r, 0), Integer(rows, r, 1), std::string(Text(rows, r, 2)),
          std::string(Text(rows, r, 3)), UnescapeBytes(PQgetvalue(rows, r, 4)),
          std::string(Text(rows, r, 5)), std::string(Text(rows, r, 6)), Integer(rows, r, 7)});
    }
    return letters;
  });
}

absl::Status PostgresWarehouse::ScanEvents(TimestampMicros after,
                                           const std::function<void(const Event&)>& visit) {
  const std::string sql = fmt::format(
      "SELECT event_id, station_id, {}, kind, delta FROM {} WHERE ts_iso > {} ORDER BY ts_iso",
      Micros("ts_iso"), raw_, Instant(1));
  const std::string after_text = FormatRfc3339(after);
  // Rows stream one at a time, so memory stays flat however many there are. Not retried
  // once rows have been visited.
  if (auto status = EnsureConnected(); !status.ok()) return status;
  PGconn* c = connection_.get();
  const char* values[] = {after_text.c_str()};
  if (!PQsendQueryParams(c, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0) ||
      !PQsetSingleRowMode(c)) {
    return ErrorOf(c, nullptr, "reading events failed");
  }
  absl::Status status = absl::OkStatus();
  while (Result row{PQgetResult(c)}) {
    const ExecStatusType state = PQresultStatus(row.get());
    if (state == PGRES_SINGLE_TUPLE && status.ok()) {
      const PGresult* r = row.get();
      visit(Event{std::string(Text(r, 0, 0)), std::string(Text(r, 0, 1)), Integer(r, 0, 2),
                  KindOf(Text(r, 0, 3)), static_cast<std::int32_t>(Integer(r, 0, 4))});
    } else if (state != PGRES_TUPLES_OK && state != PGRES_SINGLE_TUPLE && status.ok()) {
      status = ErrorOf(c, row.get(), "reading events failed");
    }
  }
  return status;
}

absl::StatusOr<std::optional<TimestampMicros>> PostgresWarehouse::LatestEventTime() {
  return MaxInstant("ts_iso", raw_);
}

absl::StatusOr<std::vector<StationTotals>> PostgresWarehouse::EventTotals(TimestampMicros through) {
  const std::string sql = EventTotalsQuery(raw_, Dialect());
  const std::string through_text = FormatRfc3339(through);
  const Param params[] = {{through_text}};
  return Read(sql, params, [](const PGresult* rows) {
    std::vector<StationTotals> totals;
    totals.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      totals.push_back({std::string(Text(rows, r, 0)), KindOf(Text(rows, r, 1)),
                        KindTotals{Integer(rows, r, 2), Integer(rows, r, 3),
                                   static_cast<std::int32_t>(Integer(rows, r, 4)),
                                   static_cast<std::int32_t>(Integer(rows, r, 5))},
                        Integer(rows, r, 6)});
    }
    return totals;
  });
}

absl::StatusOr<std::optional<TimestampMicros>> PostgresWarehouse::MaxInstant(
    std::string_view column, const std::string& table) {
  const std::string sql =
      fmt::format("SELECT {} FROM {}", Micros(fmt::format("max({})", column)), table);
  return Read(sql, {}, [](const PGresult* rows) {
    return PQgetisnull(rows, 0, 0) ? std::optional<TimestampMicros>()
                                   : std::optional<TimestampMicros>(Integer(rows, 0, 0));
  });
}

}  // namespace bikestream::postgres
