#include "job/job_registry.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/print.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/timestamp.h"

namespace bikestream {
namespace {

using json = nlohmann::json;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// Field 22 of /proc/PID/stat, after the command name in parentheses (which may hold spaces
// and parentheses itself); 0 when it cannot be read (the process is gone, or hidden).
std::uint64_t ProcessStartTime(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  const auto after_name = stat.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {  // Fields 3.. follow the name.
    if (!(fields >> field)) return 0;
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

// The process the record names is running: its pid is alive and, where both the record and
// /proc know it (another user's process may be hidden), started when the job's did.
bool IsAlive(const JobRecord& record) {
  if (record.pid <= 0 || (kill(record.pid, 0) != 0 && errno != EPERM)) return false;
  if (record.pid_start == 0) return true;
  const std::uint64_t started = ProcessStartTime(record.pid);
  return started == 0 || started == record.pid_start;
}

// A field that is not there or not a string reads as empty: a record is written by bikestream
// but may be edited by anyone.
std::string TextAt(const json& record, const char* key) {
  const auto field = record.find(key);
  return field != record.end() && field->is_string() ? field->get<std::string>() : "";
}

// The totals of an ended job's record, when they are there and whole numbers.
std::optional<JobRecord::Totals> TotalsAt(const json& record) {
  const auto totals = record.find("totals");
  if (totals == record.end() || !totals->is_object()) return std::nullopt;
  const auto count = [&](const char* key) {
    const auto field = totals->find(key);
    return field != totals->end() && field->is_number_unsigned() ? field->get<std::uint64_t>() : 0;
  };
  return JobRecord::Totals{count("received"), count("stored"), count("duplicates"),
                           count("dead_lettered")};
}

// Every record may be read by anyone who can list the jobs: where a job reads and writes is
// shown redacted.
json ToJson(const JobRecord& r) {
  json record = {{"id", r.id},
                 {"pid", r.pid},
                 {"pid_start", r.pid_start},
                 {"admin", r.admin},
                 {"source", RedactSecrets(r.source)},
                 {"warehouse", RedactSecrets(r.warehouse)},
                 {"started", r.started}};
  if (!r.state.empty()) record["state"] = r.state;
  if (!r.ended.empty()) record["ended"] = r.ended;
  if (r.totals) {
    record["totals"] = {{"received", r.totals->received},
                        {"stored", r.totals->stored},
                        {"duplicates", r.totals->duplicates},
                        {"dead_lettered", r.totals->dead_lettered}};
  }
  return record;
}

}  // namespace

JobRegistry::JobRegistry(const std::filesystem::path& state_dir, Warn warn)
    : dir_(state_dir / "jobs"), warn_(std::move(warn)) {
  if (!warn_)
    warn_ = [](const std::string& line) { Print(stderr, "bikestream: warning: {}\n", line); };
}

std::filesystem::path DefaultStateDir() {
  if (auto dir = EnvOr("BIKESTREAM_STATE_DIR", ""); !dir.empty()) return dir;
  if (auto dir = EnvOr("XDG_STATE_HOME", ""); !dir.empty())
    return std::filesystem::path(dir) / "bikestream";
  return std::filesystem::path(EnvOr("HOME", "/tmp")) / ".local/state/bikestream";
}

std::string NewJobId() {
  const std::time_t now = SystemClock().Now() / kMicrosPerSecond;
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H_%M_%S", &utc);
  return fmt::format("{}-{:06x}", stamp, std::random_device{}() & 0xffffff);
}

absl::Status JobRegistry::Register(const JobRecord& r) {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  JobRecord record = r;
  if (record.pid_start == 0) record.pid_start = ProcessStartTime(r.pid);
  // Readers never see half a record.
  if (auto written = ReplaceFile((dir_ / (r.id + ".json")).string(), ToJson(record).dump(2) + "\n");
      !written.ok()) {
    return absl::UnavailableError(
        fmt::format("{} (set BIKESTREAM_STATE_DIR to a writable directory)", MessageOf(written)));
  }
  return absl::OkStatus();
}

void JobRegistry::Unregister(const std::string& id, std::string_view final_state,
                             std::optional<JobRecord::Totals> totals) {
  const std::filesystem::path running = dir_ / (id + ".json");
  std::error_code ignored;
  if (!final_state.empty()) {
    auto record = ReadRecord(running);
    if (record.ok()) {
      record->state = std::string(final_state);
      record->ended = FormatRfc3339(SystemClock().Now() / kMicrosPerSecond * kMicrosPerSecond);
      record->totals = totals;
      std::filesystem::create_directories(dir_ / "ended", ignored);
      // Best effort: a job that cannot say how it ended has still ended.
      (void)ReplaceFile((dir_ / "ended" / (id + ".json")).string(), ToJson(*record).dump(2) + "\n");
    }
  }
  std::filesystem::remove(running, ignored);
}

absl::StatusOr<JobRecord> JobRegistry::ReadRecord(const std::filesystem::path& path) {
  auto text = ReadWholeFile(path.string(), limits::kSmallFile);
  if (!text.ok()) return text.status();
  const json record = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object() || !record.value("pid", json()).is_number_integer()) {
    return absl::InvalidArgumentError("not a job record");
  }
  return JobRecord{
      .id = TextAt(record, "id"),
      .pid = record["pid"].get<int>(),
      .pid_start = record.contains("pid_start") && record["pid_start"].is_number_unsigned()
                       ? record["pid_start"].get<std::uint64_t>()
                       : 0,
      .admin = TextAt(record, "admin"),
      .source = TextAt(record, "source"),
      .warehouse = TextAt(record, "warehouse"),
      .started = TextAt(record, "started"),
      .state = TextAt(record, "state"),
      .ended = TextAt(record, "ended"),
      .totals = TotalsAt(record)};
}

std::vector<JobRecord> JobRegistry::List() {
  std::vector<JobRecord> jobs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    if (entry.path().extension() != ".json") continue;
    auto record = ReadRecord(entry.path());
    if (!record.ok()) {
      warn_(fmt::format("skipping {} in the job registry: {}", entry.path().string(),
                        MessageOf(record.status())));
      continue;
    }
    if (!IsAlive(*record)) {
      // Killed without a chance to unregister (kill -9), or its pid since reused: forget it.
      std::filesystem::remove(entry.path(), error);
      continue;
    }
    jobs.push_back(std::move(*record));
  }
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return jobs;
}

std::vector<JobRecord> JobRegistry::Ended() {
  constexpr auto kKept = std::chrono::hours(24);
  std::vector<JobRecord> jobs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "ended", error)) {
    if (entry.path().extension() != ".json") continue;
    std::error_code ignored;
    const auto written = entry.last_write_time(ignored);
    if (ignored) continue;  // Gone since the listing.
    if (std::filesystem::file_time_type::clock::now() - written > kKept) {
      std::filesystem::remove(entry.path(), ignored);
      continue;
    }
    if (auto record = ReadRecord(entry.path()); record.ok()) jobs.push_back(std::move(*record));
  }
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
  return jobs;
}

absl::StatusOr<JobRecord> JobRegistry::Find(const std::string& id) {
  std::vector<JobRecord> matches;
  for (auto& job : List()) {
    if (job.id.starts_with(id)) matches.push_back(std::move(job));
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) {
    return absl::NotFoundError(fmt::format("no running job '{}' (see `bikestream jobs list`)", id));
  }
  return absl::InvalidArgumentError(
      fmt::format("'{}' names {} jobs; give more of the id", id, matches.size()));
}

}  // namespace bikestream
