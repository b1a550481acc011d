// The stations table: the shared upsert that keeps the latest description of each station, as
// one read-write transaction.
#include <fmt/format.h>

#include "absl/strings/str_split.h"
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/stations_query.h"
#include "warehouse/sql/valid_utf8.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

Value StationsParameter(const std::vector<Station>& stations) {
  std::vector<std::vector<json>> rows;
  rows.reserve(stations.size());
  for (const Station& s : stations) {
    rows.push_back({ValidUtf8(s.station_id), ValidUtf8(s.name), Float64(s.lat).value,
                    Float64(s.lon).value, s.capacity ? Int64(*s.capacity).value : json(nullptr),
                    Timestamp(s.last_updated).value});
  }
  return StructArray({{"station_id", "STRING"},
                      {"name", "STRING"},
                      {"lat", "FLOAT64"},
                      {"lon", "FLOAT64"},
                      {"capacity", "INT64"},
                      {"last_updated", "TIMESTAMP"}},
                     rows);
}

}  // namespace

absl::Status SpannerWarehouse::UpsertStations(const std::vector<Station>& stations) {
  if (stations.empty()) return absl::OkStatus();
  const std::string statements = StationsUpsertQuery(
      Quoted(tables_.stations),
      "SELECT station_id, name, lat, lon, capacity, last_updated FROM UNNEST(@stations)",
      Dialect());
  const Params params = {{"stations", StationsParameter(stations)}};
  return WithSetupHint(client_
                           .RunTransaction([&](Transaction& t) -> absl::Status {
                             for (absl::string_view statement : absl::StrSplit(statements, ";\n")) {
                               auto done = t.ExecuteSql(std::string(statement), params);
                               if (!done.ok()) return done.status();
                             }
                             return absl::OkStatus();
                           })
                           .status());
}

absl::StatusOr<std::vector<Station>> SpannerWarehouse::ListStations() {
  auto rows = Read(fmt::format(
      "SELECT station_id, name, lat, lon, capacity, last_updated FROM {} ORDER BY station_id",
      Quoted(tables_.stations)));
  if (!rows.ok()) return rows.status();
  std::vector<Station> stations;
  stations.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    Station& station = stations.emplace_back(Station{.station_id = TextOf(r[0]),
                                                     .name = TextOf(r[1]),
                                                     .lat = DoubleOf(r[2]),
                                                     .lon = DoubleOf(r[3]),
                                                     .last_updated = InstantOf(r[5])});
    if (!r[4].is_null()) station.capacity = IntegerOf(r[4]);
  }
  return stations;
}

}  // namespace bikestream::spanner
