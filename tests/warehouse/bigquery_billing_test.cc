// The stand-in's bill of a statement (support/bigquery_billing.h), against BigQuery's published
// rules worked by hand: the columns referenced, the day partitions scanned, INSERT against
// UPDATE, the 10 MB minimum per table.
#include "support/bigquery_billing.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>

namespace bikestream::testing_support {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kDay = 86'400'000'000;
constexpr std::int64_t kFirstDay = 1'763'251'200'000'000;  // 2025-11-16T00:00:00Z.
constexpr int kBigDayRows = 300'000;

class BigQueryBillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    db_.reset(db);
    Exec("CREATE TABLE `raw_events` (event_id TEXT, station_id TEXT, ts_iso INTEGER)");
    Exec("CREATE TABLE `_bikestream_writer` (commits INTEGER)");
    Exec("INSERT INTO `_bikestream_writer` VALUES (0)");
    billing_.TableCreated(Table("raw_events", {"event_id", "station_id", "ts_iso"}, true));
    billing_.TableCreated(Table("_bikestream_writer", {"commits"}, false));
    // The first day: 300,000 events with 36-character ids (38 bytes each, 8 for ts_iso) and
    // 5-character stations (7 bytes); the second day, one such event.
    Exec("BEGIN");
    for (int i = 0; i <= kBigDayRows; ++i) {
      const std::int64_t ts = i < kBigDayRows ? kFirstDay + i : kFirstDay + kDay + 5;
      Exec(fmt::format("INSERT INTO `raw_events` VALUES ('{:036d}', 'A_101', {})", i, ts));
    }
    Exec("COMMIT");
  }

  static json Table(const std::string& name, const std::vector<std::string>& columns, bool by_day) {
    json fields = json::array();
    for (const auto& column : columns) {
      fields.push_back({{"name", column}, {"type", column == "ts_iso" ? "TIMESTAMP" : "STRING"}});
    }
    json table = {{"tableReference", {{"tableId", name}}}, {"schema", {{"fields", fields}}}};
    if (by_day) table["timePartitioning"] = {{"type", "DAY"}, {"field", "ts_iso"}};
    return table;
  }

  void Exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_.get());
  }

  StatementBytes Bill(const std::string& sql) { return billing_.Bill(db_.get(), sql); }

  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
  BigQueryBilling billing_;
};

TEST_F(BigQueryBillingTest, AQueryIsBilledItsColumnsInTheDaysItScans) {
  const std::int64_t event_day = std::int64_t(kBigDayRows) * (38 + 8);
  // Every day: event_id and ts_iso of every row, rounded up to the MB.
  StatementBytes all = Bill("SELECT event_id FROM `raw_events` WHERE ts_iso > 0 OR TRUE");
  EXPECT_EQ(all.processed, event_day + 38 + 8);
  EXPECT_EQ(all.billed, (all.processed + kMegabyte - 1) / kMegabyte * kMegabyte);
  // The second day only: one row read, the 10 MB minimum billed.
  StatementBytes one_day =
      Bill(fmt::format("SELECT event_id FROM `raw_events` WHERE ts_iso BETWEEN {} AND {}",
                       kFirstDay + kDay, kFirstDay + 2 * kDay - 1));
  EXPECT_EQ(one_day.processed, 38 + 8);
  EXPECT_EQ(one_day.billed, kMinimumBilledPerTable);
  // A column more is read more.
  EXPECT_EQ(Bill("SELECT event_id, station_id FROM `raw_events`").processed,
            std::int64_t(kBigDayRows + 1) * (38 + 7));
  // No table: free.
  EXPECT_EQ(Bill("SELECT 1").billed, 0);
  EXPECT_EQ(Bill("BEGIN TRANSACTION").billed, 0);
}

TEST_F(BigQueryBillingTest, AnInsertDoesNotScanItsTargetAnUpdateReadsItWhole) {
  Exec("CREATE TEMP TABLE _param_events (pos INTEGER, event_id TEXT)");
  EXPECT_EQ(Bill("INSERT INTO `raw_events` (event_id, station_id, ts_iso) SELECT event_id, 'A', 1 "
                 "FROM _param_events")
                .billed,
            0);
  // The writer row: its one column read, then every column of the table it rewrites.
  const StatementBytes update =
      Bill("UPDATE `_bikestream_writer` SET commits = commits + 1 WHERE TRUE");
  EXPECT_EQ(update.processed, 8 + 8);
  EXPECT_EQ(update.billed, kMinimumBilledPerTable);
  // A script's temporary table is a table: read, it is billed its minimum.
  Exec("CREATE TEMP TABLE new_events (pos INTEGER)");
  EXPECT_EQ(Bill("SELECT pos FROM new_events ORDER BY pos").billed, kMinimumBilledPerTable);
}

}  // namespace
}  // namespace bikestream::testing_support
