#include "cli/warehouse_flags.h"

#include <fmt/format.h>

#include <filesystem>

#include "cli/cli_common.h"
#include "common/file.h"
#include "common/print.h"

namespace bikestream::cli {
namespace {

struct TableVariable {
  const char* name;
  std::string TableNames::*table;
};
constexpr TableVariable kTableVariables[] = {{"RAW_EVENT_TABLE", &TableNames::raw_events},
                                             {"FEATURE_EVENT_TABLE", &TableNames::station_features},
                                             {"DEAD_LETTER_TABLE", &TableNames::dead_letter},
                                             {"STATION_TABLE", &TableNames::stations}};

// PROJECT/DATASET of a variable holding project.dataset.table, "" when it holds a table name
// alone. A project id may hold dots itself (example.com:project), so the parts are counted
// from the right.
std::string DatasetOf(const char* variable) {
  const std::string value = FirstEnv({variable});
  const std::size_t table = value.rfind('.');
  if (table == std::string::npos || table == 0) return "";
  const std::size_t dataset = value.rfind('.', table - 1);
  if (dataset == std::string::npos || dataset == 0) return "";
  return value.substr(0, dataset) + "/" + value.substr(dataset + 1, table - dataset - 1);
}

// The notes name tables project.dataset.table: their dataset is the warehouse, and every
// variable that names one must name the same.
absl::StatusOr<std::string> BigQueryUrlFromTables() {
  std::string dataset, first;
  for (const TableVariable& variable : kTableVariables) {
    const std::string named = DatasetOf(variable.name);
    if (named.empty()) continue;
    if (!dataset.empty() && named != dataset) {
      return absl::InvalidArgumentError(
          fmt::format("{} is in {} but {} in {}: the tables must be in one dataset", first, dataset,
                      variable.name, named));
    }
    dataset = named;
    first = variable.name;
  }
  if (dataset.empty()) return std::string();
  return "bigquery://" + dataset;
}

// The URL with --location and --bigquery-endpoint, or --spanner-endpoint, as its parameters.
absl::StatusOr<std::string> WithEngineParameters(const WarehouseFlags& flags, std::string url) {
  if (!flags.spanner_endpoint.empty()) {
    if (!url.starts_with("spanner://")) {
      return absl::InvalidArgumentError(
          fmt::format("--spanner-endpoint is for a spanner:// warehouse, not {}", RedactUrl(url)));
    }
    if (url.find("?endpoint=") != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("give the endpoint once: --spanner-endpoint {} or ?endpoint= in {}",
                      RedactUrl(flags.spanner_endpoint), RedactUrl(url)));
    }
    url += "?endpoint=" + flags.spanner_endpoint;
  }
  if (flags.location.empty() && flags.bigquery_endpoint.empty() && flags.max_commit_delay.empty())
    return url;
  if (!url.starts_with("bigquery://")) {
    return absl::InvalidArgumentError(
        fmt::format("--location, --bigquery-endpoint and --max-commit-delay are for a bigquery:// "
                    "warehouse, not {}",
                    RedactUrl(url)));
  }
  const auto has = [&url](std::string_view key) {
    return url.find(fmt::format("?{}=", key)) != std::string::npos ||
           url.find(fmt::format("&{}=", key)) != std::string::npos;
  };
  const auto add = [&url](std::string_view key, const std::string& value) {
    url += fmt::format("{}{}={}", url.find('?') == std::string::npos ? '?' : '&', key, value);
  };
  if (!flags.location.empty()) {
    if (has("location")) {
      return absl::InvalidArgumentError(
          fmt::format("give the location once: --location {} or ?location= in {}", flags.location,
                      RedactUrl(url)));
    }
    add("location", flags.location);
  }
  if (!flags.bigquery_endpoint.empty()) {
    if (has("endpoint")) {
      return absl::InvalidArgumentError(
          fmt::format("give the endpoint once: --bigquery-endpoint {} or &endpoint= in {}",
                      RedactUrl(flags.bigquery_endpoint), RedactUrl(url)));
    }
    add("endpoint", flags.bigquery_endpoint);
  }
  if (!flags.max_commit_delay.empty()) {
    if (has("max_commit_delay")) {
      return absl::InvalidArgumentError(
          fmt::format("give the delay once: --max-commit-delay {} or &max_commit_delay= in {}",
                      flags.max_commit_delay, RedactUrl(url)));
    }
    add("max_commit_delay", flags.max_commit_delay);
  }
  return url;
}

}  // namespace

absl::StatusOr<std::string> ResolveWarehouseUrl(const WarehouseFlags& flags) {
  std::string url = flags.url.empty() ? FirstEnv({"BIKESTREAM_WAREHOUSE"}) : flags.url;
  if (url.empty()) {
    auto from_tables = BigQueryUrlFromTables();
    if (!from_tables.ok()) return from_tables.status();
    url = from_tables->empty() ? kDefaultWarehouse : *from_tables;
  }
  return WithEngineParameters(flags, std::move(url));
}

std::string WarehouseUrlOfStore(const WarehouseFlags& flags) {
  std::string url = WarehouseUrlForPeople(flags);
  constexpr std::string_view kSqlite = "sqlite:";
  if (!url.starts_with(kSqlite) || url == "sqlite::memory:") return url;
  std::error_code ignored;
  const auto absolute = std::filesystem::absolute(url.substr(kSqlite.size()), ignored);
  return absolute.empty() ? url : std::string(kSqlite) + ResolvedPath(absolute.string());
}

void AddCommitDelayOption(CLI::App* command, WarehouseFlags* flags) {
  command
      ->add_option("--max-commit-delay", flags->max_commit_delay,
                   "BigQuery: the longest a batch waits for the merge that commits it, in seconds "
                   "(default 90); an event that arrives meanwhile waits for the next merge too. "
                   "Merges run sooner when the events waiting pay for one (each is billed tens "
                   "of MB, whatever it carries): a shorter delay means fresher rows and a larger "
                   "bill when events are few (docs/bigquery.md)")
      ->group("Warehouse");
}

void AddWarehouseOptions(CLI::App* command, WarehouseFlags* flags) {
  const char* group = "Warehouse";
  command
      ->add_option(
          "--warehouse", flags->url,
          "Where the tables live: sqlite:PATH, postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (what "
          "the URL "
          "leaves out comes from PGHOST, PGPORT, PGUSER, PGPASSWORD, ~/.pgpass) or "
          "bigquery://PROJECT/DATASET or spanner://PROJECT/INSTANCE/DATABASE "
          "($SPANNER_EMULATOR_HOST=HOST:PORT for the emulator's REST port). Falls back to "
          "$BIKESTREAM_WAREHOUSE, then to the dataset of "
          "$RAW_EVENT_TABLE=project.dataset.table, then sqlite:bikestream.db.")
      ->group(group);
  command
      ->add_option("--location", flags->location,
                   "BigQuery: where the dataset is, and setup creates it (default US; e.g. EU, "
                   "europe-west1)")
      ->group(group);
  command
      ->add_option("--bigquery-endpoint", flags->bigquery_endpoint,
                   "BigQuery: the API's URL, e.g. a regional or private endpoint (still "
                   "authenticated). Falls "
                   "back to $BIGQUERY_ENDPOINT, then https://bigquery.googleapis.com.")
      ->group(group);
  command
      ->add_option("--spanner-endpoint", flags->spanner_endpoint,
                   "Spanner: the API's URL, e.g. a regional endpoint (still authenticated). Falls "
                   "back to $SPANNER_ENDPOINT, then https://spanner.googleapis.com; "
                   "$SPANNER_EMULATOR_HOST wins over both")
      ->group(group);
  command
      ->add_flag("--verbose", flags->verbose,
                 "Log each warehouse statement's cost (BigQuery: bytes processed and billed)")
      ->group(group);
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenWarehouseFromFlags(const WarehouseFlags& flags,
                                                                  OpenMode mode) {
  auto url = ResolveWarehouseUrl(flags);
  if (!url.ok()) return url.status();
  TableNames tables;
  for (const TableVariable& variable : kTableVariables) {
    const std::string value = FirstEnv({variable.name});
    if (value.empty()) continue;
    std::string_view name = value;
    if (auto dot = name.rfind('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
    tables.*variable.table = std::string(name);
  }
  auto warehouse = OpenWarehouse(*url, tables, mode);
  if (warehouse.ok() && flags.verbose) (*warehouse)->ObserveCosts(CostReporter(flags));
  return warehouse;
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenSetUpWarehouse(const WarehouseFlags& flags) {
  auto warehouse = OpenWarehouseFromFlags(flags);
  if (!warehouse.ok()) return warehouse.status();
  if (absl::Status status = (*warehouse)->Setup(); !status.ok()) return status;
  return warehouse;
}

CostObserver CostReporter(const WarehouseFlags& flags, CostObserver also) {
  return [verbose = flags.verbose, also = std::move(also)](const StatementCost& cost) {
    if (verbose) {
      Print(stderr, "{}: {} bytes processed, {} billed\n", cost.statement, cost.bytes_processed,
            cost.bytes_billed);
    }
    if (also) also(cost);
  };
}

}  // namespace bikestream::cli
