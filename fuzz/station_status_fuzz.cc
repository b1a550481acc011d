// libFuzzer target: a station_status document of any bytes (a hostile feed) is read or refused,
// and every report kept is one no later real report is refused by: a count from 0 to 10,000, an
// id within its bound, a time at most an hour past the document's.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gbfs/station_status.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto status = bikestream::gbfs::ParseStationStatus(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!status.ok()) return 0;
  for (const auto& report : status->stations) {
    Check(report.bikes_available >= 0 &&
          report.bikes_available <= bikestream::gbfs::kMaxBikesAtStation);
    Check(!report.station_id.empty() &&
          report.station_id.size() <= bikestream::gbfs::kMaxStationIdBytes);
    Check(report.last_reported <= status->last_updated + bikestream::gbfs::kMaxReportAhead);
  }
  return 0;
}
