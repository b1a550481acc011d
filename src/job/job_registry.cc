#include "job/job_registry.h"

#include <fmt/format.h>
#include <csignal>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "absl/status/status.h"
#include "common/clock.h"

namespace bikestream {
namespace {

using json = nlohmann::json;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

bool IsAlive(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

std::filesystem::path DefaultStateDir() {
  if (auto dir = EnvOr("BIKESTREAM_STATE_DIR", ""); !dir.empty()) return dir;
  if (auto dir = EnvOr("XDG_STATE_HOME", ""); !dir.empty()) return std::filesystem::path(dir) / "bikestream";
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
  const json record = {{"id", r.id},         {"pid", r.pid},           {"admin", r.admin},
                       {"source", r.source}, {"warehouse", r.warehouse}, {"started", r.started}};
  const auto path = dir_ / (r.id + ".json");
  const auto temporary = dir_ / (r.id + ".json.tmp");
  {
    std::ofstream out(temporary);
    out << record.dump(2) << "\n";
    if (!out) {
      return absl::UnavailableError(fmt::format(
          "cannot write the job registry in {} (set BIKESTREAM_STATE_DIR to a writable directory)",
          dir_.string()));
    }
  }
  std::filesystem::rename(temporary, path, error);  // Readers never see half a file.
  return error ? absl::UnavailableError(error.message()) : absl::OkStatus();
}

void JobRegistry::Unregister(const std::string& id) {
  std::error_code ignored;
  std::filesystem::remove(dir_ / (id + ".json"), ignored);
}

std::vector<JobRecord> JobRegistry::List() {
  std::vector<JobRecord> jobs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const json record = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) continue;
    JobRecord r{record.value("id", ""), record.value("pid", 0), record.value("admin", ""),
                record.value("source", ""), record.value("warehouse", ""), record.value("started", "")};
    if (!IsAlive(r.pid)) {
      // Killed without a chance to unregister (kill -9): forget it.
      std::filesystem::remove(entry.path(), error);
      continue;
    }
    jobs.push_back(std::move(r));
  }
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
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
  return absl::InvalidArgumentError(fmt::format("'{}' names {} jobs; give more of the id", id, matches.size()));
}

}  // namespace bikestream
