#include "warehouse/sql/stations_query.h"

#include <fmt/format.h>

namespace bikestream {

std::string StationsUpsertQuery(const std::string& stations, std::string_view rows,
                                const SqlDialect& d) {
  constexpr std::string_view kColumns = "station_id, name, lat, lon, capacity, last_updated";
  if (d.upsert == SqlDialect::Upsert::kOnConflict) {
    return fmt::format(
        "INSERT INTO {0} ({1}) {2} ON CONFLICT (station_id) DO UPDATE SET name = excluded.name, "
        "lat = excluded.lat, lon = excluded.lon, capacity = excluded.capacity, "
        "last_updated = excluded.last_updated WHERE excluded.last_updated >= {0}.last_updated",
        stations, kColumns, rows);
  }
  return fmt::format(
      "DELETE FROM {0} WHERE station_id IN (SELECT s.station_id FROM ({2}) AS s JOIN {0} AS t "
      "ON t.station_id = s.station_id WHERE s.last_updated >= t.last_updated);\n"
      "INSERT INTO {0} ({1}) SELECT {1} FROM ({2}) AS s "
      "WHERE NOT EXISTS (SELECT 1 FROM {0} AS t WHERE t.station_id = s.station_id)",
      stations, kColumns, rows);
}

}  // namespace bikestream
