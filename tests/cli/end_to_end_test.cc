// End to end through the real binary: run, ingest, kill -9 and re-run, with exact counts.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "cli/cli_test_util.h"
#include "event/event.h"
#include "simulator/simulator.h"
#include "support/faulty_stream.h"
#include "support/gzip.h"
#include "warehouse/warehouse.h"

namespace bikestream {
namespace {

using e2e::Child;
using e2e::RunBikestream;
using e2e::ScopedEnv;
using e2e::TempDir;

constexpr std::uint64_t kMessages = 200'000;
using e2e::ExpectedFaultyStream;
using e2e::FaultyStreamFlags;

std::vector<std::string> With(std::vector<std::string> base, std::vector<std::string> more) {
  base.insert(base.begin(), more.begin(), more.end());
  return base;
}

std::int64_t Count(const std::string& db, const std::string& sql) {
  auto warehouse = *OpenWarehouse("sqlite:" + db);
  auto result = warehouse->Query(sql);
  EXPECT_TRUE(result.ok()) << result.status();
  return std::stoll(result->rows.at(0).at(0).text);
}

// The unique valid events in a JSON-lines file, checked independently of the warehouse.
std::set<std::string> ValidIdsIn(const std::string& path) {
  std::set<std::string> ids;
  EventParser parser;
  std::istringstream lines(e2e::ReadFile(path));
  for (std::string line; std::getline(lines, line);) {
    ParseResult result = parser.Parse(line);
    if (auto* event = std::get_if<Event>(&result)) ids.insert(event->event_id);
  }
  return ids;
}

TEST(EndToEnd, RunStoresExactlyTheUniqueValidEventsAndAddsWithoutCollisions) {
  TempDir dir;
  const std::string db = dir / "run.db";
  const SimulatorStats first = ExpectedFaultyStream(1, "first", kMessages);
  std::string out;
  ASSERT_EQ(RunBikestream(With(FaultyStreamFlags(1, "first", kMessages),
                               {"run", "--warehouse", "sqlite:" + db, "--json"}),
                          &out),
            0);
  EXPECT_EQ(out,
            fmt::format("{{\"received\":{},\"stored\":{},\"duplicates\":{},\"dead_lettered\":{},",
                        kMessages, first.valid, first.duplicates, first.invalid) +
                out.substr(out.find("\"seconds\"")));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(first.valid));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"), std::int64_t(first.invalid));

  // A second run of the same seed gets a new run id: all its events are new.
  const SimulatorStats second = ExpectedFaultyStream(1, "second", kMessages);
  ASSERT_EQ(RunBikestream(With(FaultyStreamFlags(1, "second", kMessages),
                               {"run", "--warehouse", "sqlite:" + db, "--json"}),
                          &out),
            0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(first.valid + second.valid));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"),
            std::int64_t(first.invalid + second.invalid));
}

TEST(EndToEnd, IngestStoresExactlyTheUniqueValidEventsOnceAcrossRuns) {
  TempDir dir;
  const std::string events = dir / "events.jsonl";
  const std::string db = dir / "ingest.db";
  ASSERT_EQ(Child(With(FaultyStreamFlags(2, "ingest", kMessages), {"simulate"}), events).Wait(), 0);
  const SimulatorStats expected = ExpectedFaultyStream(2, "ingest", kMessages);
  const auto valid_ids = ValidIdsIn(events);
  ASSERT_EQ(valid_ids.size(), expected.valid);

  std::string out;
  ASSERT_EQ(
      RunBikestream({"ingest", "--from", events, "--warehouse", "sqlite:" + db, "--json"}, &out),
      0);
  EXPECT_NE(out.find(fmt::format("\"stored\":{}", expected.valid)), std::string::npos) << out;
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(valid_ids.size()));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));

  // The same input again stores nothing new.
  ASSERT_EQ(
      RunBikestream({"ingest", "--from", events, "--warehouse", "sqlite:" + db, "--json"}, &out),
      0);
  EXPECT_NE(out.find("\"stored\":0,"), std::string::npos) << out;
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(valid_ids.size()));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));
}

// A gzip-compressed file is read as gbfs reads one; piped in compressed, it is refused before
// anything is stored; cut short, it says so after storing what it could read.
TEST(EndToEnd, IngestReadsACompressedFileAndRefusesCompressedBytesOnStdin) {
  TempDir dir;
  const std::string events = dir / "events.jsonl";
  ASSERT_EQ(Child({"simulate", "--mode", "stream", "--count", "3000", "--invalid-rate", "0.01",
                   "--seed", "5"},
                  events)
                .Wait(),
            0);
  const auto valid_ids = ValidIdsIn(events);
  const std::string compressed = dir / "events.jsonl.gz";
  std::ofstream(compressed, std::ios::binary) << testing_support::Gzip(e2e::ReadFile(events));
  const std::string db = dir / "gz.db";
  std::string out, err;
  ASSERT_EQ(RunBikestream({"ingest", "--from", compressed, "--warehouse", "sqlite:" + db, "--json"},
                          &out, "/dev/null", &err),
            0)
      << err;
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(valid_ids.size()));
  EXPECT_EQ(Count(db,
                  "SELECT count(*) FROM dead_letter WHERE reason = 'bad_json' AND payload LIKE '%' "
                  "|| char(31) || '%'"),
            0);

  const std::string piped = dir / "piped.db";
  EXPECT_EQ(RunBikestream({"ingest", "--from", "-", "--warehouse", "sqlite:" + piped}, nullptr,
                          compressed, &err),
            1);
  EXPECT_NE(err.find("the input is gzip-compressed: give the file itself to --from"),
            std::string::npos)
      << err;
  EXPECT_EQ(Count(piped, "SELECT count(*) FROM raw_events") +
                Count(piped, "SELECT count(*) FROM dead_letter"),
            0);

  const std::string cut = dir / "cut.jsonl.gz";
  const std::string whole = e2e::ReadFile(compressed);
  std::ofstream(cut, std::ios::binary) << whole.substr(0, whole.size() / 2);
  EXPECT_EQ(RunBikestream({"ingest", "--from", cut, "--warehouse", "sqlite:" + (dir / "cut.db")},
                          nullptr, "/dev/null", &err),
            1);
  EXPECT_NE(err.find("ends before its end (truncated?)"), std::string::npos) << err;
}

TEST(EndToEnd, KillNineAtRandomMomentsThenRerunStoresEachEventOnce) {
  TempDir dir;
  const std::string events = dir / "events.jsonl";
  const std::string db = dir / "killed.db";
  ASSERT_EQ(Child(With(FaultyStreamFlags(3, "kill", kMessages), {"simulate"}), events).Wait(), 0);
  const SimulatorStats expected = ExpectedFaultyStream(3, "kill", kMessages);
  const std::vector<std::string> ingest = {"ingest",       "--from",       events, "--warehouse",
                                           "sqlite:" + db, "--batch-size", "2000"};
  std::mt19937 random(std::random_device{}());
  int killed = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    Child child(ingest, dir / "out.txt");
    ASSERT_TRUE(child.started());
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 400));
    child.Kill9();
    if (child.Wait() == 128 + SIGKILL) ++killed;
  }
  EXPECT_GT(killed, 0) << "every run finished before the kill; the test proved nothing";
  ASSERT_EQ(RunBikestream(ingest), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count(db, "SELECT count(DISTINCT event_id) FROM raw_events"),
            std::int64_t(expected.valid));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));
}

TEST(EndToEnd, KilledRunReplayedWithTheSameSeedAndRunIdIsExact) {
  TempDir dir;
  const std::string db = dir / "replay.db";
  const auto flags = With(FaultyStreamFlags(4, "replay", kMessages),
                          {"run", "--warehouse", "sqlite:" + db, "--json"});
  Child child(flags, dir / "out.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  child.Kill9();
  child.Wait();
  ASSERT_EQ(RunBikestream(flags), 0);
  const SimulatorStats expected = ExpectedFaultyStream(4, "replay", kMessages);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), std::int64_t(expected.valid));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM dead_letter"), std::int64_t(expected.invalid));
}

TEST(Cli, StdinIngestAndBadLinesGetDeadLettered) {
  TempDir dir;
  const std::string input = dir / "in.jsonl";
  std::ofstream(input)
      << R"({"event_id":"e-1","station_id":"A_101","ts_iso":"2025-10-18T16:24:11Z","kind":"pickup","delta":1})"
      << "\n\nnot json\n"
      << R"({"event_id":"e-2","station_id":"A_101","ts_iso":"2025-02-30T16:24:11Z","kind":"pickup","delta":1})"
      << "\n";
  const std::string db = dir / "cli.db";
  std::string out;
  ASSERT_EQ(RunBikestream({"ingest", "--from", "-", "--warehouse", "sqlite:" + db, "--json"}, &out,
                          input),
            0);
  EXPECT_NE(out.find(R"("received":3,"stored":1,"duplicates":0,"dead_lettered":2)"),
            std::string::npos)
      << out;
  ASSERT_EQ(RunBikestream({"dead-letter", "list", "--reason", "bad_timestamp", "--format", "csv",
                           "--warehouse", "sqlite:" + db},
                          &out),
            0);
  EXPECT_NE(out.find("bad_timestamp"), std::string::npos);
  EXPECT_NE(out.find("no such date"), std::string::npos);
  EXPECT_EQ(out.find("bad_json"), std::string::npos);
}

TEST(Cli, ShowPrintsABoxedTableWithIsoTimestamps) {
  TempDir dir;
  const std::string db = dir / "show.db";
  ASSERT_EQ(RunBikestream(With(FaultyStreamFlags(5, "show", 100),
                               {"run", "--warehouse", "sqlite:" + db, "--json"})),
            0);
  std::string out;
  ASSERT_EQ(
      RunBikestream({"show", "raw_events", "--limit", "3", "--warehouse", "sqlite:" + db}, &out),
      0);
  EXPECT_TRUE(out.starts_with("+----")) << out;
  EXPECT_NE(out.find("| event_id"), std::string::npos) << out;
  EXPECT_NE(out.find("T00:"), std::string::npos) << out;  // ISO timestamps, not integers.
  ASSERT_EQ(RunBikestream({"query", "SELECT count(*) AS n FROM raw_events", "--format", "json",
                           "--warehouse", "sqlite:" + db},
                          &out),
            0);
  EXPECT_EQ(out.find("{\"n\":"), 0u) << out;
}

TEST(Cli, ErrorsNameTheFix) {
  std::string out;
  EXPECT_EQ(RunBikestream({"ingest", "--from", "/nonexistent/in.jsonl"}), 1);
  EXPECT_EQ(RunBikestream({"ingest", "--from", "-", "--warehouse", "sqlite:/nonexistent-dir/x.db"}),
            1);
  EXPECT_EQ(RunBikestream({"ingest", "--from", "-", "--warehouse", "oracle://x"}), 1);
  EXPECT_EQ(RunBikestream({"simulate", "--invalid-rate", "3"}), 1);
  EXPECT_EQ(RunBikestream({"simulate", "--mode", "bursty"}), 2);
  EXPECT_EQ(RunBikestream({"dead-letter", "list", "--reason", "nope"}), 1);
}

// Before any request: credentials that cannot work and endpoints that would leak them.
TEST(Cli, GoogleCredentialsAndEndpointsThatCannotWorkAreOneLineThatNamesTheFix) {
  TempDir dir;
  const std::string key = dir / "key.json";
  std::ofstream(key)
      << R"({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                           "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})";
  // gcloud's file, under $HOME and under $CLOUDSDK_CONFIG.
  std::filesystem::create_directories(dir / "home/.config/gcloud");
  std::filesystem::create_directories(dir / "sdk");
  std::ofstream(dir / "home/.config/gcloud/application_default_credentials.json") << "{ not json";
  std::ofstream(dir / "sdk/application_default_credentials.json")
      << R"({"type": "authorized_user"})";
  struct Case {
    std::optional<std::string> credentials_file, cloudsdk_config;
    std::vector<std::string> flags;
    std::string says;
  };
  const std::vector<Case> cases = {
      {dir / "missing.json",
       {},
       {},
       "GOOGLE_APPLICATION_CREDENTIALS=" + dir / "missing.json" + ": cannot read it"},
      {key, {}, {}, "is not a usable service account key"},
      {{},
       {},
       {"--pubsub-endpoint", "http://pubsub.example.com"},
       "--pubsub-endpoint http://pubsub.example.com: give an https:// URL"},
      {{}, {}, {}, dir / "home/.config/gcloud/application_default_credentials.json is not JSON"},
      {{},
       dir / "sdk",
       {},
       dir / "sdk/application_default_credentials.json holds authorized_user credentials without"},
  };
  const ScopedEnv no_emulator("PUBSUB_EMULATOR_HOST", std::nullopt);
  const ScopedEnv no_token("GOOGLE_OAUTH_ACCESS_TOKEN", std::nullopt);
  const ScopedEnv home("HOME", dir / "home");
  for (const auto& c : cases) {
    const ScopedEnv credentials("GOOGLE_APPLICATION_CREDENTIALS", c.credentials_file);
    const ScopedEnv cloudsdk("CLOUDSDK_CONFIG", c.cloudsdk_config);
    std::vector<std::string> args = {"simulate",   "--to",    "pubsub",     "--project",
                                     "my-project", "--topic", "bike-events"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    std::string out, err;
    EXPECT_EQ(RunBikestream(args, &out, "/dev/null", &err), 1) << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.find("AAAA"), std::string::npos) << err;
  }
}

TEST(Cli, CountSizeRateAndDurationFlagsRefuseNegativeAndAbsurdValuesNamingTheFlag) {
  const std::vector<std::vector<std::string>> refused = {
      {"run", "--count", "-5"},
      {"run", "--count", "0"},
      {"run", "--rate", "-1"},
      {"run", "--rate", "nan"},
      {"run", "--rate", "1e300"},
      {"run", "--speedup", "0"},
      {"run", "--speedup", "nan"},
      {"run", "--duration", "0s"},
      {"run", "--duration", "-5s"},
      {"run", "--show", "-1"},
      {"run", "--late-by", "0s"},
      {"run", "--features", "streaming", "--every", "0s"},
      {"run", "--features", "streaming", "--allowed-lateness", "400d"},
      {"simulate", "--count", "-1"},
      {"features", "--every", "0s"},
      {"features", "--every", "1000d"},
      {"dead-letter", "list", "--limit", "-1"},
      {"show", "raw_events", "--limit", "-3"},
      {"ingest", "--from", "-", "--batch-size", "-1"},
      {"ingest", "--from", "pubsub", "--max-outstanding-messages", "-1"},
      {"run", "--mode", "stream", "--rate", "1e-300"},
      {"simulate", "--stations", "0"},
      {"run", "--stations", "-3"},
      {"run", "--start", "0001-01-01T00:00:00Z"},
      {"run", "--start", "10000-01-01T00:00:00Z"},
      {"ingest", "--from", "pubsub", "--subscription", "bike-sub", "--project", "de mo/../x"},
      {"ingest", "--from", "pubsub", "--project", "demo", "--subscription", "a/../b"},
      {"setup", "--project", "demo", "--subscription", "bike-sub", "--topic", "goog-topic"},
  };
  TempDir dir;
  const std::string warehouse = "sqlite:" + (dir / "w.db");
  ASSERT_EQ(RunBikestream({"setup", "--warehouse", warehouse}), 0);
  for (std::vector<std::string> args : refused) {
    // The flag under test is the one before the last argument.
    const std::string flag = args[args.size() - 2];
    args.insert(args.end(), {"--warehouse", warehouse});
    std::string err;
    EXPECT_NE(RunBikestream(args, nullptr, "/dev/null", &err), 0)
        << fmt::format("{}", fmt::join(args, " "));
    EXPECT_NE(err.find(flag), std::string::npos)
        << fmt::format("{}", fmt::join(args, " ")) << ": " << err;
  }
}

// Runs `command` under bash, with $BIKESTREAM set to the binary; returns bash's exit code.
int Shell(const std::string& command) {
  const std::string line = fmt::format("BIKESTREAM='{}' bash -c '{}'", BIKESTREAM_BINARY, command);
  const int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cli, AReaderThatGoesAwayEndsNoJobHalfway) {
  TempDir dir;
  const std::string db = dir / "w.db";
  // Its words go nowhere once `head` has left; its work must still be done, exit 0.
  EXPECT_EQ(
      Shell(fmt::format(
          "\"$BIKESTREAM\" run --mode stream --count 20000 --show 5 --warehouse sqlite:{} 2>&1 "
          "| head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
          db)),
      0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM raw_events"), 20000);
}

// The docs' own `| head` examples: the reader has what it wanted, as with `yes | head`.
TEST(Cli, ACommandWhoseOutputIsItsWorkEndsQuietlyOnceNobodyReadsIt) {
  TempDir dir;
  const std::string err = dir / "err";
  // Not killed by SIGPIPE (141), not aborted (134), no error: it stops.
  EXPECT_EQ(
      Shell(fmt::format(
          "timeout 60 \"$BIKESTREAM\" simulate --mode stream --count 100000000 2>{} | head -c 100 "
          ">/dev/null; exit ${{PIPESTATUS[0]}}",
          err)),
      0);
  EXPECT_EQ(e2e::ReadFile(err).find("Broken pipe"), std::string::npos) << e2e::ReadFile(err);
  const std::string db = dir / "w.db";
  ASSERT_EQ(
      RunBikestream({"run", "--mode", "stream", "--count", "5000", "--warehouse", "sqlite:" + db}),
      0);
  // After the simulated events, whose times run ahead of the clock.
  ASSERT_EQ(
      RunBikestream({"features", "--as-of", "2030-01-01T00:00:00Z", "--warehouse", "sqlite:" + db}),
      0);
  // Written to a pipe whose reader left a second before (`true` reads nothing).
  EXPECT_EQ(
      Shell(fmt::format(
          "{{ sleep 1; exec \"$BIKESTREAM\" training-set --warehouse sqlite:{} 2>{}; }} | true; "
          "exit ${{PIPESTATUS[0]}}",
          db, err)),
      0);
  EXPECT_EQ(e2e::ReadFile(err).find("could not write"), std::string::npos) << e2e::ReadFile(err);
}

TEST(Cli, OutputThatCannotBeWrittenIsAnErrorUnlessTheReaderLeft) {
  TempDir dir;
  const std::string db = dir / "w.db";
  ASSERT_EQ(
      RunBikestream({"run", "--mode", "stream", "--count", "100", "--warehouse", "sqlite:" + db}),
      0);
  const std::string err = dir / "err";
  // /dev/full: every write fails with ENOSPC, as on a full disk.
  EXPECT_EQ(
      Shell(fmt::format("\"$BIKESTREAM\" query \"SELECT * FROM raw_events\" --warehouse sqlite:{} "
                        ">/dev/full 2>{}",
                        db, err)),
      1);
  EXPECT_NE(e2e::ReadFile(err).find("could not write the output"), std::string::npos)
      << e2e::ReadFile(err);
  // The same output into a pipe whose reader has what it wanted: no error.
  EXPECT_EQ(
      Shell(fmt::format("\"$BIKESTREAM\" query \"SELECT * FROM raw_events\" --warehouse sqlite:{} "
                        "| head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
                        db)),
      0);
}

TEST(Cli, LookingAtAMissingWarehouseDoesNotCreateOne) {
  TempDir dir;
  const std::string db = dir / "missing.db";
  EXPECT_EQ(RunBikestream({"show", "raw_events", "--warehouse", "sqlite:" + db}), 1);
  EXPECT_EQ(RunBikestream({"dead-letter", "list", "--warehouse", "sqlite:" + db}), 1);
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_EQ(RunBikestream({"setup", "--warehouse", "sqlite:" + db}), 0);
  EXPECT_EQ(RunBikestream({"show", "raw_events", "--warehouse", "sqlite:" + db}), 0);
}

}  // namespace
}  // namespace bikestream
