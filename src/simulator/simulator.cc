#include "simulator/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "absl/status/status.h"
#include "event/timestamp.h"

namespace bikestream {
namespace {

constexpr std::array<const char*, 3> kSparseStations = {"A_101", "A_205", "A_310"};
constexpr int kDefaultStreamStations = 50;
constexpr int kStationsPerLetter = 899;  // Numbers 101..999.
static_assert(kMaxStations == 26 * kStationsPerLetter);
constexpr double kZipfExponent = 1.1;
// With --rate 0 there is no wall clock to follow; event time advances as at this rate.
constexpr double kUnpacedEventsPerSecond = 1000;
constexpr double kSparseMinGapSeconds = 1;
constexpr double kSparseMaxGapSeconds = 3;
constexpr double kSingleBikeShare = 0.9;
constexpr int kMaxGroupDelta = 20;
constexpr std::size_t kRecentValidCapacity = 1024;
constexpr double kSecondsPerDay = 86400;

// Intensity over the day in event time (UTC hours): a floor, a morning and an evening peak.
double RawDiurnal(double hour) {
  auto peak = [hour](double center, double width) {
    double distance = std::abs(hour - center);
    distance = std::min(distance, 24 - distance);
    return std::exp(-distance * distance / (2 * width * width));
  };
  return 0.25 + 2.0 * peak(8, 1.2) + 2.2 * peak(17.5, 1.5);
}

}  // namespace

absl::Status ValidateSimulatorOptions(const SimulatorOptions& o) {
  auto share = [](double p) { return p >= 0 && p <= 1; };
  if (!share(o.duplicate_rate))
    return absl::InvalidArgumentError("--duplicate-rate must be in 0..1");
  if (!share(o.invalid_rate)) return absl::InvalidArgumentError("--invalid-rate must be in 0..1");
  if (!share(o.late_rate)) return absl::InvalidArgumentError("--late-rate must be in 0..1");
  if (o.duplicate_rate + o.invalid_rate > 1) {
    return absl::InvalidArgumentError("--duplicate-rate plus --invalid-rate must not exceed 1");
  }
  if (!(o.rate == 0 || o.rate >= kMinSimulatedRate) || std::isinf(o.rate)) {
    return absl::InvalidArgumentError(fmt::format(
        "--rate must be 0 (as fast as possible) or at least {} events/s", kMinSimulatedRate));
  }
  if (!(o.speedup > 0) || std::isinf(o.speedup))
    return absl::InvalidArgumentError("--speedup must be a number > 0");
  if (o.stations < 0 || o.stations > kMaxStations) {
    return absl::InvalidArgumentError(fmt::format("--stations must be in 1..{}", kMaxStations));
  }
  if (o.late_by <= 0) return absl::InvalidArgumentError("--late-by must be a positive duration");
  if (!InTimestampRange(o.start) || o.late_by > o.start - kMinTimestamp) {
    return absl::InvalidArgumentError(fmt::format(
        "--start must be in {}..{} and at least --late-by after the first: late events would be "
        "older than the oldest timestamp an event may carry",
        FormatRfc3339(kMinTimestamp), FormatRfc3339(kMaxTimestamp)));
  }
  if (o.run_id.empty() || o.run_id.size() > 32 ||
      o.run_id.find_first_not_of(
          "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos) {
    return absl::InvalidArgumentError("--run-id must be 1 to 32 letters, digits or '_'");
  }
  return absl::OkStatus();
}

std::string StationName(int index) {
  return fmt::format("{}_{}", char('A' + index / kStationsPerLetter),
                     101 + index % kStationsPerLetter);
}

std::string RandomRunId() {
  std::random_device device;
  return fmt::format("{:08x}", device());
}

Simulator::Simulator(SimulatorOptions options)
    : options_(std::move(options)), random_(options_.seed), clock_(options_.start) {
  const bool sparse = options_.mode == SimulationMode::kSparse;
  if (sparse && options_.stations == 0) {
    stations_.assign(kSparseStations.begin(), kSparseStations.end());
  } else {
    const int count = options_.stations > 0 ? options_.stations : kDefaultStreamStations;
    for (int i = 0; i < count; ++i) stations_.push_back(StationName(i));
  }
  // Sparse stations are equally busy, as in the original script; a stream is Zipf-skewed.
  double total = 0;
  for (std::size_t i = 0; i < stations_.size(); ++i) {
    total += sparse ? 1.0 : 1.0 / std::pow(double(i + 1), kZipfExponent);
    cumulative_weight_.push_back(total);
  }
  for (double& w : cumulative_weight_) w /= total;

  constexpr int kSamples = 24 * 60;
  double sum = 0;
  for (int m = 0; m < kSamples; ++m) sum += RawDiurnal(m / 60.0);
  diurnal_mean_ = sum / kSamples;
}

void Simulator::Advance(double seconds) {
  // In floating point: a gap of 1e300 s must not overflow on its way to the end of the range.
  const double next = double(clock_) + seconds * kMicrosPerSecond;
  clock_ = next >= double(kMaxTimestamp) ? kMaxTimestamp : TimestampMicros(next);
}

double Simulator::Uniform() { return double(random_() >> 11) * 0x1.0p-53; }

double Simulator::Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

int Simulator::PickStation() {
  const double u = Uniform();
  auto it = std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), u);
  return std::min<int>(it - cumulative_weight_.begin(), int(stations_.size()) - 1);
}

double Simulator::DiurnalIntensity(TimestampMicros ts) const {
  double seconds_of_day = std::fmod(double(ts) / kMicrosPerSecond, kSecondsPerDay);
  if (seconds_of_day < 0) seconds_of_day += kSecondsPerDay;
  return RawDiurnal(seconds_of_day / 3600) / diurnal_mean_;
}

std::string Simulator::NextEventId() {
  return fmt::format("e-{}-{}", options_.run_id, next_sequence_++);
}

Event Simulator::NextEvent() {
  Event event;
  if (options_.mode == SimulationMode::kSparse) {
    const double gap =
        kSparseMinGapSeconds + Uniform() * (kSparseMaxGapSeconds - kSparseMinGapSeconds);
    Advance(gap);
    due_seconds_ = double(clock_ - options_.start) / kMicrosPerSecond / options_.speedup;
    // The original script sent whole seconds and single bikes.
    event.ts = clock_ / kMicrosPerSecond * kMicrosPerSecond;
    event.delta = 1;
  } else {
    const double rate = options_.rate > 0 ? options_.rate : kUnpacedEventsPerSecond;
    const double mean_gap = options_.speedup / rate / DiurnalIntensity(clock_);
    Advance(Exponential(mean_gap));
    event.ts = clock_;
    event.delta = 1;
    if (Uniform() >= kSingleBikeShare) {
      while (event.delta < kMaxGroupDelta && Uniform() < 0.5) ++event.delta;
      ++event.delta;
    }
  }
  event.station_id = stations_[PickStation()];
  event.kind = Uniform() < 0.5 ? Kind::kPickup : Kind::kDropoff;
  event.event_id = NextEventId();
  if (options_.late_rate > 0 && Uniform() < options_.late_rate) {
    event.ts -= TimestampMicros(1 + Uniform() * double(options_.late_by - 1));
    ++stats_.late;
  }
  return event;
}

std::string Simulator::NextInvalid() {
  Event event = NextEvent();
  std::string valid = ToJson(event);
  const std::string id = event.event_id;
  const std::string ts = FormatRfc3339(event.ts);
  static constexpr std::array<const char*, 6> kBadTimestamps = {"2025-02-30T10:00:00Z",
                                                                "2025-13-01T10:00:00Z",
                                                                "2025-10-18T24:00:01Z",
                                                                "2025-10-18T16:24:11",
                                                                "yesterday",
                                                                "2025-10-18 16:24"};
  auto with = [&](std::string_view field_json) {
    return fmt::format(R"({{"event_id":"{}",{}}})", id, field_json);
  };
  const std::string station = event.station_id;
  switch (random_() % 10) {
    case 0:  // Broken JSON: cut before the closing brace.
      return valid.substr(0, 1 + random_() % (valid.size() - 1));
    case 1:  // A missing field.
      return with(fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"pickup")", station, ts));
    case 2:  // A mistyped field.
      return with(fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"pickup","delta":"1")",
                              station, ts));
    case 3:  // An unknown kind.
      return with(
          fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"repair","delta":1)", station, ts));
    case 4:  // An impossible or malformed timestamp.
      return with(fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"dropoff","delta":1)",
                              station, kBadTimestamps[random_() % kBadTimestamps.size()]));
    case 5:  // An oversized string.
      return with(fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"pickup","delta":1)",
                              std::string(65 + random_() % 100, 'X'), ts));
    case 6:  // A delta out of range.
      return with(fmt::format(R"("station_id":"{}","ts_iso":"{}","kind":"pickup","delta":{})",
                              station, ts, random_() % 2 ? 0 : 5000));
    case 7:  // Not an object.
      return fmt::format(R"(["{}","{}"])", id, station);
    case 8:  // A station id with forbidden characters.
      return with(fmt::format(R"("station_id":"{} !","ts_iso":"{}","kind":"pickup","delta":1)",
                              station, ts));
    default:  // An empty event id.
      return fmt::format(
          R"({{"event_id":"","station_id":"{}","ts_iso":"{}","kind":"pickup","delta":1}})", station,
          ts);
  }
}

SimulatedMessage Simulator::Next() {
  SimulatedMessage message;
  const double roll = Uniform();
  if (roll < options_.duplicate_rate && !recent_valid_.empty()) {
    message.payload = recent_valid_[random_() % recent_valid_.size()];
    message.kind = MessageKind::kDuplicate;
    ++stats_.duplicates;
  } else if (roll >= options_.duplicate_rate &&
             roll < options_.duplicate_rate + options_.invalid_rate) {
    message.payload = NextInvalid();
    message.kind = MessageKind::kInvalid;
    ++stats_.invalid;
  } else {
    message.payload = ToJson(NextEvent());
    if (recent_valid_.size() < kRecentValidCapacity) {
      recent_valid_.push_back(message.payload);
    } else {
      recent_valid_[stats_.valid % kRecentValidCapacity] = message.payload;
    }
    ++stats_.valid;
  }
  if (options_.mode == SimulationMode::kStream) {
    due_seconds_ = options_.rate > 0 ? double(stats_.messages) / options_.rate : 0;
  }
  message.due_seconds = due_seconds_;
  ++stats_.messages;
  return message;
}

}  // namespace bikestream
