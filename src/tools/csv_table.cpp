// csv_table.cpp: reading back the CSV files the project writes (csv_table.h).
#include "tools/csv_table.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

int CsvTable::column(const std::string& path, const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) throw std::runtime_error(path + ": no column '" + name + "'");
  return static_cast<int>(it - columns.begin());
}

std::vector<std::string> split_cells(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream s(text);
  for (std::string part; std::getline(s, part, separator);) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.push_back("");
  return parts;
}

CsvTable load_csv_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  CsvTable t;
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + ": empty");
  t.columns = split_cells(line, ',');
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    t.rows.push_back(split_cells(line, ','));
    if (t.rows.back().size() != t.columns.size())
      throw std::runtime_error(path + ": line " + std::to_string(number) + " has " +
                               std::to_string(t.rows.back().size()) + " cells, the header " +
                               std::to_string(t.columns.size()));
  }
  return t;
}

double csv_number(const std::string& path, const std::string& cell, const std::string& column) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(cell.c_str(), &end);
  if (cell.empty() || errno || *end) throw std::runtime_error(path + ": column '" + column + "' holds '" + cell + "', not a number");
  return v;
}
