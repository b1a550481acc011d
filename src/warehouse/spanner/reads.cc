// Reading the Spanner warehouse back: dead letters, events and their totals, at a strong
// timestamp.
#include <fmt/format.h>

#include "absl/strings/escaping.h"
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/sql/totals_query.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

// Rows per read of ScanEvents: a page of events stays a few MB whatever the table holds.
constexpr std::int64_t kScanPage = 10'000;

std::string TextOf(const json& cell) { return cell.is_string() ? cell.get<std::string>() : ""; }

std::int64_t IntegerOf(const json& cell) { return Int64Of(cell).value_or(0); }

TimestampMicros InstantOf(const json& cell) {
  return cell.is_null() ? 0 : TimestampOf(cell).value_or(0);
}

Kind KindOf(std::string_view name) { return name == "pickup" ? Kind::kPickup : Kind::kDropoff; }

}  // namespace

absl::StatusOr<std::vector<DeadLetter>> SpannerWarehouse::ListDeadLetters(
    const DeadLetterFilter& filter) {
  Params params = {{"after", Int64(filter.after_id)},
                   {"limit", Int64(static_cast<std::int64_t>(filter.limit))},
                   {"reason", filter.reason ? String(*filter.reason) : Null("STRING")}};
  auto rows = client_.Query(
      fmt::format("SELECT id, first_seen, source, message_id, payload, reason, error, "
                  "publish_time FROM `{}` WHERE id > @after AND (@reason IS NULL OR reason = "
                  "@reason) ORDER BY id LIMIT @limit",
                  tables_.dead_letter),
      params);
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetter> letters;
  letters.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    std::string payload;
    absl::Base64Unescape(TextOf(r[4]), &payload);
    letters.push_back(DeadLetter{IntegerOf(r[0]), InstantOf(r[1]), TextOf(r[2]), TextOf(r[3]),
                                 std::move(payload), TextOf(r[5]), TextOf(r[6]), InstantOf(r[7])});
  }
  return letters;
}

absl::StatusOr<std::vector<DeadLetterCount>> SpannerWarehouse::CountDeadLetters(
    DurationMicros bucket, TimePeriod period) {
  auto rows = client_.Query(
      DeadLetterCountsQuery(fmt::format("`{}`", tables_.dead_letter), bucket, Dialect()),
      {InstantParameter(1, period.from), InstantParameter(2, period.to)});
  if (!rows.ok()) return rows.status();
  std::vector<DeadLetterCount> counts;
  for (const auto& r : rows->rows)
    counts.push_back({TextOf(r[0]), IntegerOf(r[1]), IntegerOf(r[2])});
  return counts;
}

// Page by page in (ts_iso, event_id) order, each page starting after the last row of the one
// before.
absl::Status SpannerWarehouse::ScanEvents(TimestampMicros after,
                                          const std::function<void(const Event&)>& visit) {
  const std::string columns = "event_id, station_id, ts_iso, kind, delta";
  std::optional<std::pair<TimestampMicros, std::string>> last;
  for (;;) {
    Params params = {{"after", Timestamp(after)}, {"page", Int64(kScanPage)}};
    std::string where = "ts_iso > @after";
    if (last) {
      where = "(ts_iso > @ts OR (ts_iso = @ts AND event_id > @id))";
      params.push_back({"ts", Timestamp(last->first)});
      params.push_back({"id", String(last->second)});
    }
    auto rows = client_.Query(fmt::format("SELECT {} FROM `{}` WHERE {} ORDER BY ts_iso, event_id "
                                          "LIMIT @page",
                                          columns, tables_.raw_events, where),
                              params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : rows->rows) {
      visit(Event{TextOf(r[0]), TextOf(r[1]), InstantOf(r[2]), KindOf(TextOf(r[3])),
                  static_cast<std::int32_t>(IntegerOf(r[4]))});
    }
    if (static_cast<std::int64_t>(rows->rows.size()) < kScanPage) return absl::OkStatus();
    const auto& end = rows->rows.back();
    last = {InstantOf(end[2]), TextOf(end[0])};
  }
}

absl::StatusOr<std::optional<TimestampMicros>> SpannerWarehouse::LatestEventTime() {
  auto rows = client_.Query(fmt::format("SELECT MAX(ts_iso) FROM `{}`", tables_.raw_events));
  if (!rows.ok()) return rows.status();
  if (rows->rows.empty() || rows->rows[0][0].is_null()) return std::optional<TimestampMicros>();
  return std::optional<TimestampMicros>(InstantOf(rows->rows[0][0]));
}

absl::StatusOr<std::vector<StationTotals>> SpannerWarehouse::EventTotals(TimestampMicros through) {
  auto rows = client_.Query(EventTotalsQuery(fmt::format("`{}`", tables_.raw_events), Dialect()),
                            {InstantParameter(1, through)});
  if (!rows.ok()) return rows.status();
  std::vector<StationTotals> totals;
  for (const auto& r : rows->rows) {
    totals.push_back(
        {TextOf(r[0]), KindOf(TextOf(r[1])),
         KindTotals{IntegerOf(r[2]), IntegerOf(r[3]), static_cast<std::int32_t>(IntegerOf(r[4])),
                    static_cast<std::int32_t>(IntegerOf(r[5]))},
         IntegerOf(r[6])});
  }
  return totals;
}

}  // namespace bikestream::spanner
