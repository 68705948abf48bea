// csv_table.h: the CSV files this project writes (a run's metrics.csv, the
// tables under docs/results/), read back: a header line of column names,
// then rows of as many comma-separated cells. No quoting: no cell here holds
// a comma.
#pragma once

#include <string>
#include <vector>

struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  // The index of column `name`; throws std::runtime_error naming path and column.
  int column(const std::string& path, const std::string& name) const;
};

// The cells of one line.
std::vector<std::string> split_cells(const std::string& text, char separator);
// The file at `path`; throws std::runtime_error naming it when it cannot be
// read, is empty, or has a row whose cells do not match the header.
CsvTable load_csv_table(const std::string& path);
// A cell as a number; throws std::runtime_error naming path and column when
// it is not one.
double csv_number(const std::string& path, const std::string& cell, const std::string& column);
