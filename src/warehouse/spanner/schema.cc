// The Spanner warehouse's database and tables: the notes' schema in GoogleSQL DDL, created where
// missing and checked where present (docs/adr/0010).
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include "common/redact.h"
#include "common/status.h"
#include "gcp/google_api.h"
#include "warehouse/spanner/spanner_backend.h"
#include "warehouse/spanner/spanner_warehouse.h"
#include "warehouse/sql/table_names.h"

namespace bikestream::spanner {
namespace {

struct Column {
  std::string name;
  std::string type;  // As INFORMATION_SCHEMA.COLUMNS.SPANNER_TYPE writes it.
  bool not_null = false;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::string primary_key;
  std::vector<std::string> indexes;  // CREATE INDEX statements, without IF NOT EXISTS.
};

// raw_events keyed by event_id, read by station and time through an index; station_features
// keyed so that a station's latest values come first; dead letters kept once per message.
std::vector<Table> Schema(const TableNames& t) {
  return {
      {t.raw_events,
       {{"event_id", "STRING(MAX)", true},
        {"station_id", "STRING(MAX)", true},
        {"ts_iso", "TIMESTAMP", true},
        {"kind", "STRING(16)", true},
        {"delta", "INT64", true},
        {"commit_id", "STRING(32)", true}},
       "event_id",
       {fmt::format("INDEX `{0}_by_station_time` ON `{0}` (station_id, ts_iso) STORING (kind, "
                    "delta)",
                    t.raw_events),
        fmt::format("INDEX `{0}_by_time` ON `{0}` (ts_iso)", t.raw_events)}},
      {t.station_features,
       {{"station_id", "STRING(MAX)", true},
        {"feature_name", "STRING(MAX)", true},
        {"window_len", "STRING(MAX)", true},
        {"as_of", "TIMESTAMP", true},
        {"value", "FLOAT64", false}},
       "station_id, feature_name, window_len, as_of DESC",
       {fmt::format("INDEX `{0}_by_time` ON `{0}` (as_of)", t.station_features)}},
      {t.dead_letter,
       {{"id", "INT64", true},
        {"first_seen", "TIMESTAMP", true},
        {"source", "STRING(MAX)", true},
        {"message_id", "STRING(MAX)", true},
        {"payload", "BYTES(MAX)", true},
        {"reason", "STRING(MAX)", true},
        {"error", "STRING(MAX)", true},
        {"publish_time", "TIMESTAMP", false}},
       "id",
       {fmt::format("UNIQUE INDEX `{0}_by_message` ON `{0}` (source, message_id)", t.dead_letter),
        fmt::format("INDEX `{0}_by_reason` ON `{0}` (reason)", t.dead_letter)}},
      {t.stations,
       {{"station_id", "STRING(MAX)", true},
        {"name", "STRING(MAX)", true},
        {"lat", "FLOAT64", true},
        {"lon", "FLOAT64", true},
        {"capacity", "INT64", false},
        {"last_updated", "TIMESTAMP", true}},
       "station_id",
       {}},
  };
}

std::vector<std::string> Ddl(const std::vector<Table>& tables) {
  std::vector<std::string> ddl;
  for (const Table& table : tables) {
    std::string columns;
    for (const Column& c : table.columns) {
      columns += fmt::format("{}`{}` {}{}", columns.empty() ? "" : ", ", c.name, c.type,
                             c.not_null ? " NOT NULL" : "");
    }
    ddl.push_back(fmt::format("CREATE TABLE IF NOT EXISTS `{}` ({}) PRIMARY KEY ({})", table.name,
                              columns, table.primary_key));
    for (const std::string& index : table.indexes) {
      const bool unique = index.starts_with("UNIQUE ");
      ddl.push_back(fmt::format("CREATE {}INDEX IF NOT EXISTS {}", unique ? "UNIQUE " : "",
                                unique ? index.substr(std::string("UNIQUE INDEX ").size())
                                       : index.substr(std::string("INDEX ").size())));
    }
  }
  return ddl;
}

}  // namespace

SpannerWarehouse::SpannerWarehouse(SpannerWarehouseOptions options, TableNames tables)
    : options_(std::move(options)), tables_(std::move(tables)), client_(options_.client) {}

absl::Status SpannerWarehouse::Setup() {
  auto instance = client_.InstanceExists();
  if (!instance.ok()) return instance.status();
  if (!*instance) {
    if (!options_.emulator) {
      return absl::FailedPreconditionError(fmt::format(
          "Spanner instance {} of project {} does not exist: create it (`gcloud spanner "
          "instances create {} --config=regional-us-central1 --processing-units=100`)",
          options_.client.instance, options_.client.project, options_.client.instance));
    }
    if (absl::Status created = client_.CreateEmulatorInstance(); !created.ok()) return created;
  }
  const std::vector<std::string> ddl = Ddl(Schema(tables_));
  auto existing = client_.DatabaseDdl();
  if (!existing.ok()) return existing.status();
  if (!existing->has_value()) {
    absl::Status created = client_.CreateDatabase(ddl);
    // Another worker's setup created it meanwhile: go on as if it had been there.
    if (created.code() != absl::StatusCode::kAlreadyExists) return created;
  }
  if (absl::Status checked = CheckColumns(); !checked.ok()) return checked;
  auto missing = AnyMissing();
  if (!missing.ok()) return missing.status();
  if (!*missing) return absl::OkStatus();  // Workers starting together change no schema.
  return client_.UpdateDdl(ddl);
}

// Whether a table or index of the schema is missing.
absl::StatusOr<bool> SpannerWarehouse::AnyMissing() {
  auto present = client_.Query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = '' UNION ALL "
      "SELECT index_name FROM information_schema.indexes WHERE table_schema = '' AND "
      "index_type = 'INDEX'");
  if (!present.ok()) return present.status();
  std::set<std::string> names;
  for (const auto& row : present->rows) names.insert(TextOf(row[0]));
  for (const Table& table : Schema(tables_)) {
    if (!names.contains(table.name)) return true;
    for (const std::string& index : table.indexes) {
      const std::size_t open = index.find('`') + 1;
      if (!names.contains(index.substr(open, index.find('`', open) - open))) return true;
    }
  }
  return false;
}

// Each table of the schema that exists must have its columns, with their types and
// nullability; other columns are the owner's and allowed when they may be NULL.
absl::Status SpannerWarehouse::CheckColumns() {
  auto columns = client_.Query(
      "SELECT table_name, column_name, spanner_type, is_nullable FROM information_schema.columns "
      "WHERE table_schema = ''");
  if (!columns.ok()) return columns.status();
  std::map<std::pair<std::string, std::string>, Column> found;
  for (const auto& row : columns->rows) {
    const std::string table = row[0].get<std::string>();
    const std::string name = row[1].get<std::string>();
    found[{table, name}] = {name, row[2].get<std::string>(), row[3].get<std::string>() == "NO"};
  }
  for (const Table& table : Schema(tables_)) {
    const bool exists = std::any_of(found.begin(), found.end(), [&](const auto& entry) {
      return entry.first.first == table.name;
    });
    if (!exists) continue;
    for (const Column& want : table.columns) {
      auto it = found.find({table.name, want.name});
      if (it == found.end() || it->second.type != want.type ||
          it->second.not_null != want.not_null) {
        return absl::FailedPreconditionError(fmt::format(
            "Spanner table {} exists with another schema: column {} should be {}{} but is {} "
            "(bikestream never alters a table: use another table name, or drop it)",
            table.name, want.name, want.type, want.not_null ? " NOT NULL" : "",
            it == found.end() ? "missing"
                              : it->second.type + (it->second.not_null ? " NOT NULL" : "")));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace bikestream::spanner

namespace bikestream {

absl::StatusOr<std::unique_ptr<Warehouse>> OpenSpannerWarehouse(std::string_view url,
                                                                const TableNames& tables,
                                                                OpenMode) {
  // Project ids may hold a domain and ':'; instance and database ids are Spanner's.
  static const std::regex kForm(
      R"(spanner://([a-z][-a-z0-9.:]*[a-z0-9])/([a-z][-a-z0-9]*[a-z0-9])/([a-z][-_a-z0-9]*[a-z0-9])(\?endpoint=(.+))?)");
  std::cmatch parts;
  if (!std::regex_match(url.begin(), url.end(), parts, kForm)) {
    return absl::InvalidArgumentError(fmt::format(
        "warehouse URL '{}': use spanner://PROJECT/INSTANCE/DATABASE[?endpoint=URL], e.g. "
        "spanner://my-project/bikes/bikestream (instance and database ids: lower-case letters, "
        "digits and '-', starting with a letter)",
        RedactUrl(url)));
  }
  if (absl::Status names = CheckTableNames(tables, spanner::kMaxTableNameBytes, "Spanner");
      !names.ok()) {
    return names;
  }
  spanner::SpannerWarehouseOptions options;
  options.client.project = parts[1];
  options.client.instance = parts[2];
  options.client.database = parts[3];
  const char* emulator = std::getenv("SPANNER_EMULATOR_HOST");
  if (emulator && *emulator) {
    // As Google's clients: the emulator, in plain HTTP, without credentials.
    options.emulator = true;
    options.client.endpoint = fmt::format("http://{}", emulator);
  } else {
    std::string endpoint = parts[5].matched ? std::string(parts[5]) : "";
    std::string source = "the warehouse URL's endpoint";
    if (endpoint.empty() && std::getenv("SPANNER_ENDPOINT")) {
      endpoint = std::getenv("SPANNER_ENDPOINT");
      source = "SPANNER_ENDPOINT";
    }
    if (!endpoint.empty()) {
      auto checked = gcp::CheckEndpoint(endpoint, source);
      if (!checked.ok()) return checked.status();
      options.client.endpoint = *checked;
    }
    auto credentials = gcp::CredentialsFromProcessEnvironment();
    if (!credentials.ok()) return credentials.status();
    options.client.credentials = std::move(*credentials);
  }
  return std::make_unique<spanner::SpannerWarehouse>(std::move(options), tables);
}

}  // namespace bikestream
