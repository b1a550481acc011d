// The stations table: an upsert that keeps the latest description of each station, sent as
// one JSON document (one statement, however many stations).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "warehouse/postgres/postgres_backend.h"
#include "warehouse/postgres/postgres_rows.h"
#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/stations_query.h"

namespace bikestream::postgres {
namespace {

std::string StationsJson(const std::vector<Station>& stations) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Station& s : stations) {
    rows.push_back({{"station_id", s.station_id},
                    {"name", s.name},
                    {"lat", s.lat},
                    {"lon", s.lon},
                    {"capacity", s.capacity ? nlohmann::json(*s.capacity) : nlohmann::json()},
                    {"last_updated", FormatRfc3339(s.last_updated)}});
  }
  // Text that is not UTF-8 is replaced (U+FFFD), as PostgreSQL's text would refuse it.
  return rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::Status PostgresWarehouse::UpsertStations(const std::vector<Station>& stations) {
  if (stations.empty()) return absl::OkStatus();
  const std::string sql = StationsUpsertQuery(
      QuoteIdentifier(tables_.stations),
      "SELECT station_id, name, lat, lon, capacity, last_updated FROM jsonb_to_recordset(CAST($1 "
      "AS jsonb)) AS s(station_id text, name text, lat double precision, lon double precision, "
      "capacity bigint, last_updated timestamptz)",
      Dialect());
  const std::string rows = StationsJson(stations);
  const Param params[] = {{rows}};
  return Retrying([&](PGconn* c) -> absl::Status {
    auto result = Exec(c, sql, params);
    return result.ok() ? absl::OkStatus() : Prefixed("storing stations failed", result.status());
  });
}

absl::StatusOr<std::vector<Station>> PostgresWarehouse::ListStations() {
  const std::string sql =
      fmt::format("SELECT station_id, name, lat, lon, capacity, {} FROM {} ORDER BY station_id",
                  Micros("last_updated"), QuoteIdentifier(tables_.stations));
  return Read(sql, {}, [](const PGresult* rows) {
    std::vector<Station> stations;
    stations.reserve(PQntuples(rows));
    for (int r = 0; r < PQntuples(rows); ++r) {
      Station& station = stations.emplace_back(Station{.station_id = std::string(Text(rows, r, 0)),
                                                       .name = std::string(Text(rows, r, 1)),
                                                       .lat = Real(rows, r, 2),
                                                       .lon = Real(rows, r, 3),
                                                       .last_updated = Integer(rows, r, 5)});
      if (!PQgetisnull(rows, r, 4)) station.capacity = Integer(rows, r, 4);
    }
    return stations;
  });
}

}  // namespace bikestream::postgres
