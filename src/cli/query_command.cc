// `bikestream show TABLE` and `bikestream query SQL`: look at the data.
#include <fmt/format.h>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/warehouse_flags.h"

namespace bikestream::cli {
namespace {

struct QueryFlags {
  std::string sql;
  std::string table;
  std::size_t limit = 10;
  std::string format = "table";
  WarehouseFlags warehouse;
};

int PrintQuery(const QueryFlags& flags, const std::string& sql) {
  auto format = ParseTableFormat(flags.format);
  if (!format.ok()) return Fail(format.status());
  auto warehouse = OpenWarehouseFromFlags(flags.warehouse, OpenMode::kMustExist);
  if (!warehouse.ok()) return Fail(warehouse.status());
  auto result = (*warehouse)->Query(sql);
  if (!result.ok()) return Fail(result.status());
  PrintResult(stdout, *result, *format);
  return kExitOk;
}

void AddFormatOption(CLI::App* command, QueryFlags* flags) {
  command->add_option("--format", flags->format, "table (boxed, as bq prints), csv or json (lines)")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

}  // namespace

void AddShowCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* command = app.add_subcommand("show", "Print the first rows of a table");
  command->footer("Example:\n  bikestream show raw_events --limit 5");
  command->add_option("table", flags->table, "raw_events, station_features or dead_letter")
      ->required();
  command->add_option("--limit", flags->limit, "Rows to print")
      ->check(CLI::Range(std::size_t{1}, kMaxRows))
      ->capture_default_str();
  AddFormatOption(command, flags.get());
  AddWarehouseOptions(command, &flags->warehouse);
  command->callback([flags, &exit_code] {
    if (flags->table.empty() ||
        flags->table.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
            std::string::npos) {
      exit_code =
          Fail(fmt::format("'{}' is not a table name; use e.g. raw_events, "
                           "station_features or dead_letter",
                           flags->table));
      return;
    }
    exit_code =
        PrintQuery(*flags, fmt::format("SELECT * FROM {} LIMIT {}", flags->table, flags->limit));
  });
}

void AddQueryCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* command = app.add_subcommand("query", "Run one SQL statement against the warehouse");
  command->footer(
      "Timestamps read as RFC 3339 and compare as instants, as on every warehouse:\n"
      "  bikestream query \"SELECT count(*) FROM raw_events WHERE ts_iso >= "
      "'2024-10-13T00:00:00Z'\"\n"
      "Example:\n"
      "  bikestream query \"SELECT station_id, count(*) AS n FROM raw_events GROUP BY 1 ORDER BY n "
      "DESC\"");
  command->add_option("sql", flags->sql, "The SQL statement")->required();
  AddFormatOption(command, flags.get());
  AddWarehouseOptions(command, &flags->warehouse);
  command->callback([flags, &exit_code] { exit_code = PrintQuery(*flags, flags->sql); });
}

}  // namespace bikestream::cli
