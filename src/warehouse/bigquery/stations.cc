// The stations table: the shared upsert that keeps the latest description of each station, as
// one transaction (a DELETE of the rows being replaced, then an INSERT of the stations not
// stored).
#include <fmt/format.h>

#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/stations_query.h"

namespace bikestream::bigquery {
namespace {

const std::vector<Field> kStationFields = {{"station_id", "STRING"}, {"name", "STRING"},
                                           {"lat", "FLOAT64"},       {"lon", "FLOAT64"},
                                           {"capacity", "INT64"},    {"last_updated", "TIMESTAMP"}};

nlohmann::json StationsParameter(const std::vector<Station>& stations) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(stations.size());
  for (const Station& s : stations) {
    // Every digit of a coordinate, so that it reads back as it was.
    rows.push_back(
        {s.station_id, s.name, fmt::format("{}", s.lat), fmt::format("{}", s.lon),
         s.capacity ? std::optional<std::string>(std::to_string(*s.capacity)) : std::nullopt,
         TimestampText(s.last_updated)});
  }
  return StructArrayParameter("stations", kStationFields, rows);
}

}  // namespace

absl::Status BigQueryWarehouse::UpsertStations(const std::vector<Station>& stations) {
  if (stations.empty()) return absl::OkStatus();
  const std::string script =
      fmt::format("BEGIN TRANSACTION;\n{};\nCOMMIT TRANSACTION;\n",
                  StationsUpsertQuery(Quoted(tables_.stations),
                                      "SELECT station_id, name, lat, lon, capacity, last_updated "
                                      "FROM UNNEST(@stations)",
                                      Dialect()));
  return RunJob("stations", "bikestream_stations", script,
                nlohmann::json::array({StationsParameter(stations)}))
      .status();
}

absl::StatusOr<std::vector<Station>> BigQueryWarehouse::ListStations() {
  auto rows = Read(
      "stations",
      fmt::format(
          "SELECT station_id, name, lat, lon, capacity, last_updated FROM {} ORDER BY station_id",
          Quoted(tables_.stations)),
      nlohmann::json::array());
  if (!rows.ok()) return rows.status();
  std::vector<Station> stations;
  stations.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    if (row.size() < 6) continue;
    Station& station = stations.emplace_back(Station{.station_id = row[0].value_or(""),
                                                     .name = row[1].value_or(""),
                                                     .lat = DoubleOf(row[2]),
                                                     .lon = DoubleOf(row[3]),
                                                     .last_updated = IntegerOf(row[5])});
    if (row[4]) station.capacity = IntegerOf(row[4]);
  }
  return stations;
}

}  // namespace bikestream::bigquery
