// `bikestream dead-letter list|replay`: inspect bad input and re-validate it after a fix.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/warehouse_flags.h"
#include "common/print.h"
#include "common/status.h"
#include "ingest/dead_letter_replay.h"

namespace bikestream::cli {
namespace {

struct DeadLetterFlags {
  std::optional<std::string> reason;
  std::size_t limit = 20;
  std::string format = "table";
  WarehouseFlags warehouse;
};

constexpr std::size_t kMaxPayloadChars = 60;

QueryResult ToResult(const std::vector<DeadLetter>& letters) {
  QueryResult result;
  result.columns = {"id", "first_seen", "reason", "error", "source", "message_id", "payload"};
  for (const DeadLetter& d : letters) {
    result.rows.push_back({{std::to_string(d.id), false, true},
                           {FormatRfc3339(d.first_seen)},
                           {d.reason},
                           {d.error},
                           {d.source},
                           {d.message_id},
                           {d.payload}});
  }
  return result;
}

absl::Status CheckReason(const std::optional<std::string>& reason) {
  if (reason && !IsReasonCode(*reason)) {
    return absl::InvalidArgumentError(fmt::format(
        "--reason {}: unknown code; use one of bad_json, not_object, missing_field, wrong_type, "
        "bad_event_id, bad_station_id, bad_timestamp, bad_kind, bad_delta, too_long",
        *reason));
  }
  return absl::OkStatus();
}

int List(const DeadLetterFlags& flags) {
  if (auto status = CheckReason(flags.reason); !status.ok()) return Fail(status);
  auto format = ParseTableFormat(flags.format);
  if (!format.ok()) return Fail(format.status());
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  auto letters = (*warehouse)->ListDeadLetters({.reason = flags.reason, .limit = flags.limit});
  if (!letters.ok()) return Fail(letters.status());
  PrintResult(stdout, ToResult(*letters), *format, kMaxPayloadChars);
  return kExitOk;
}

// Events a replay stored under stored feature ticks: which ticks missed them, and the backfill
// that refreshes them. Only words: the replay itself is done.
void WarnOfStaleFeatures(Warehouse& warehouse, TimestampMicros earliest,
                         const WarehouseFlags& where) {
  auto latest = warehouse.LatestFeatureTime();
  if (!latest.ok()) {
    Print(stderr, "could not check whether stored features missed these events: {}\n",
          MessageOf(latest.status()));
    return;
  }
  if (!*latest || **latest < earliest) return;
  const std::string from = FormatRfc3339(earliest), to = FormatRfc3339(**latest);
  Print(stderr,
        "the features stored at ticks from {} to {} were computed without these events; refresh "
        "them:\n"
        "  bikestream features --backfill {}..{} --warehouse {}\n",
        from, to, from, to, WarehouseUrlForPeople(where));
}

int Replay(const DeadLetterFlags& flags) {
  if (auto status = CheckReason(flags.reason); !status.ok()) return Fail(status);
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  auto result = ReplayDeadLetters(**warehouse, flags.reason);
  if (!result.ok()) return Fail(result.status());
  Print("replayed {} dead letters: {} stored, {} already stored, {} still invalid (kept)\n",
        result->examined, result->stored, result->duplicates, result->still_invalid);
  if (result->earliest_stored)
    WarnOfStaleFeatures(**warehouse, *result->earliest_stored, flags.warehouse);
  return kExitOk;
}

}  // namespace

void AddDeadLetterCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<DeadLetterFlags>();
  CLI::App* command = app.add_subcommand("dead-letter", "Inspect and replay bad input");
  command->require_subcommand(1);
  CLI::App* list = command->add_subcommand("list", "Show dead letters, oldest first");
  CLI::App* replay = command->add_subcommand(
      "replay", "Re-validate dead letters; move the now-valid ones to raw_events exactly once");
  replay->footer(
      "Fix a payload, then replay it:\n"
      "  bikestream query \"UPDATE dead_letter SET payload = replace(payload, '\\\"delta\\\":0', "
      "'\\\"delta\\\":1') WHERE reason = 'bad_delta'\"\n"
      "  bikestream dead-letter replay --reason bad_delta");
  for (CLI::App* sub : {list, replay}) {
    sub->add_option("--reason", flags->reason, "Only this reason code, e.g. bad_timestamp");
    AddWarehouseOptions(sub, &flags->warehouse);
  }
  list->add_option("--limit", flags->limit, "Rows to print")
      ->check(CLI::Range(std::size_t{1}, kMaxRows))
      ->capture_default_str();
  list->add_option("--format", flags->format, "table, csv or json (full payloads)")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  list->callback([flags, &exit_code] { exit_code = List(*flags); });
  replay->callback([flags, &exit_code] { exit_code = Replay(*flags); });
}

}  // namespace bikestream::cli
