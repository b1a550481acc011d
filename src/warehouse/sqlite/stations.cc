// The stations table: an upsert that keeps the latest description of each station.
#include <fmt/format.h>

#include "warehouse/sql/sql_text.h"
#include "warehouse/sql/stations_query.h"
#include "warehouse/sqlite/sqlite_backend.h"

namespace bikestream::sqlite {

absl::Status SqliteWarehouse::UpsertStations(const std::vector<Station>& stations) {
  auto upsert = Statement::Prepare(
      db_.get(), StationsUpsertQuery(QuoteIdentifier(tables_.stations),
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", Dialect()));
  if (!upsert.ok()) return WithSetupHint(upsert.status());
  auto transaction = Transaction::Begin(db_.get());
  if (!transaction.ok()) return transaction.status();
  for (const Station& station : stations) {
    upsert->Bind(1, station.station_id);
    upsert->Bind(2, station.name);
    upsert->Bind(3, station.lat);
    upsert->Bind(4, station.lon);
    if (station.capacity) {
      upsert->Bind(5, *station.capacity);
    } else {
      upsert->BindNull(5);
    }
    upsert->Bind(6, station.last_updated);
    if (auto changes = upsert->Run(); !changes.ok()) return changes.status();
  }
  return transaction->Commit();
}

absl::StatusOr<std::vector<Station>> SqliteWarehouse::ListStations() {
  auto stmt = Statement::Prepare(
      db_.get(),
      fmt::format(
          "SELECT station_id, name, lat, lon, capacity, last_updated FROM {} ORDER BY station_id",
          QuoteIdentifier(tables_.stations)));
  if (!stmt.ok()) return WithSetupHint(stmt.status());
  std::vector<Station> stations;
  sqlite3_stmt* s = stmt->get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Station& station = stations.emplace_back(Station{.station_id = ColumnText(s, 0),
                                                     .name = ColumnText(s, 1),
                                                     .lat = sqlite3_column_double(s, 2),
                                                     .lon = sqlite3_column_double(s, 3),
                                                     .last_updated = sqlite3_column_int64(s, 5)});
    if (sqlite3_column_type(s, 4) != SQLITE_NULL) station.capacity = sqlite3_column_int64(s, 4);
  }
  if (rc != SQLITE_DONE) return Error(db_.get(), "listing stations failed");
  return stations;
}

}  // namespace bikestream::sqlite
