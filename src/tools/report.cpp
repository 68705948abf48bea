// report.cpp: the numbers on the pages, recomputed from docs/results/*.csv
// (report.h gives the marker syntax).
#include "tools/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tools/csv_table.h"
#include "train/atomic_file.h"

namespace {

const std::string kOpen = "<!--csv ", kOpenEnd = "-->", kClose = "<!--/csv-->";

}  // namespace

std::string report_value(const std::string& results_dir, const std::string& spec) {
  std::istringstream words(spec);
  std::string file, select, value, format;
  if (!(words >> file >> select >> value >> format))
    throw std::runtime_error("marker '" + spec + "': expected FILE SELECT VALUE FORMAT");
  const std::string path = results_dir + "/" + file;
  // Read afresh for every marker: an experiment writes its CSV, then fills its
  // page's markers from it, in one process (a page's few hundred small files
  // take milliseconds).
  const CsvTable t = load_csv_table(path);
  // Rows kept by the terms in order (key=value, COLUMN<=V, COLUMN>=V, kept=COLUMN), then reduced by first / last / min= / max=.
  std::vector<const std::vector<std::string>*> rows;
  for (const auto& row : t.rows) rows.push_back(&row);
  std::string pick;
  if (select != "all") {
    for (const std::string& term : split_cells(select, ',')) {
      if (term == "first" || term == "last" || term.rfind("min=", 0) == 0 || term.rfind("max=", 0) == 0) {
        pick = term;
        continue;
      }
      if (term.rfind("kept=", 0) == 0) {  // the rows that set a new lowest COLUMN: the models a run keeps
        const std::string name = term.substr(5);
        const int c = t.column(path, name);
        std::vector<const std::vector<std::string>*> kept;
        for (const auto* r : rows)
          if (kept.empty() || csv_number(path, (*r)[c], name) < csv_number(path, (*kept.back())[c], name)) kept.push_back(r);
        rows = kept;
        continue;
      }
      // COLUMN<=V or COLUMN>=V: the rows within the bound.
      const auto bounded = std::min(term.find("<="), term.find(">="));
      if (bounded != std::string::npos) {
        const std::string name = term.substr(0, bounded);
        const int c = t.column(path, name);
        const double bound = csv_number(path, term.substr(bounded + 2), "bound of '" + term + "'");
        const bool at_most = term[bounded] == '<';
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const auto* r) {
                                    const double v = csv_number(path, (*r)[c], name);
                                    return !(at_most ? v <= bound : v >= bound);
                                  }),
                   rows.end());
        continue;
      }
      const auto eq = term.find('=');
      if (eq == std::string::npos) throw std::runtime_error("marker '" + spec + "': '" + term + "' is not key=value");
      const int c = t.column(path, term.substr(0, eq));
      const std::string want = term.substr(eq + 1);
      rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const auto* r) { return (*r)[c] != want; }), rows.end());
    }
  }
  if (!pick.empty() && !rows.empty()) {
    if (pick == "first" || pick == "last") {
      rows = {pick == "first" ? rows.front() : rows.back()};
    } else {
      const int c = t.column(path, pick.substr(4));
      const bool smallest = pick[1] == 'i';
      const auto* best = rows[0];
      for (const auto* r : rows) {
        const double v = csv_number(path, (*r)[c], pick.substr(4)), b = csv_number(path, (*best)[c], pick.substr(4));
        if (smallest ? v < b : v > b) best = r;
      }
      rows = {best};
    }
  }
  double result = 0;
  const auto colon = value.find(':');
  if (value == "count") {
    result = static_cast<double>(rows.size());
  } else if (colon != std::string::npos) {
    const std::string op = value.substr(0, colon), name = value.substr(colon + 1);
    const int c = t.column(path, name);
    if (rows.empty()) throw std::runtime_error("marker '" + spec + "': no row matches");
    std::vector<double> v;
    for (const auto* r : rows) v.push_back(csv_number(path, (*r)[c], name));
    if (op == "mean" || op == "sum") {
      for (double x : v) result += x;
      if (op == "mean") result /= static_cast<double>(v.size());
    } else if (op == "min") {
      result = *std::min_element(v.begin(), v.end());
    } else if (op == "max") {
      result = *std::max_element(v.begin(), v.end());
    } else if (op == "median") {  // of an even count, the mean of the middle two
      std::sort(v.begin(), v.end());
      const std::size_t n = v.size();
      result = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    } else {
      throw std::runtime_error("marker '" + spec + "': unknown reduction '" + op + "'");
    }
  } else {
    if (rows.size() != 1)
      throw std::runtime_error("marker '" + spec + "': " + std::to_string(rows.size()) + " rows match, expected one");
    result = csv_number(path, (*rows[0])[t.column(path, value)], value);
  }
  if (format.rfind("pct:", 0) == 0) {
    result *= 100;
    format = format.substr(4);
  } else if (format.rfind("min:", 0) == 0) {
    result /= 60;  // seconds to minutes
    format = format.substr(4);
  }
  if (format.empty() || format[0] != '%' || std::count(format.begin(), format.end(), '%') != 1 ||
      format.find_first_of("fge") == std::string::npos)
    throw std::runtime_error("marker '" + spec + "': format '" + format + "' is not one %f, %g or %e");
  char text[64];
  std::snprintf(text, sizeof text, format.c_str(), result);
  return text;
}

std::string report_page(const std::string& results_dir, const std::string& page, const std::string& text,
                        std::vector<ReportIssue>& issues) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = text.find(kOpen, at);
    if (open == std::string::npos) break;
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + open, '\n'));
    const std::size_t spec_end = text.find(kOpenEnd, open + kOpen.size());
    const std::size_t close = spec_end == std::string::npos ? spec_end : text.find(kClose, spec_end);
    if (close == std::string::npos) {
      issues.push_back({page, line, "a <!--csv ...--> marker without its <!--/csv-->", false});
      break;
    }
    const std::string spec = text.substr(open + kOpen.size(), spec_end - open - kOpen.size());
    const std::size_t value_begin = spec_end + kOpenEnd.size();
    const std::string shown = text.substr(value_begin, close - value_begin);
    out += text.substr(at, value_begin - at);
    try {
      const std::string computed = report_value(results_dir, spec);
      if (computed != shown) issues.push_back({page, line, "shows " + shown + ", " + spec + " gives " + computed, true});
      out += computed;
    } catch (const std::runtime_error& e) {
      issues.push_back({page, line, e.what(), false});
      out += shown;
    }
    at = close;
  }
  return out + text.substr(at);
}

std::vector<ReportIssue> run_report(const std::string& results_dir, const std::vector<std::string>& pages,
                                    bool write) {
  std::vector<ReportIssue> all;
  int markers = 0;
  for (const std::string& page : pages) {
    std::ifstream in(page);
    if (!in) throw std::runtime_error(page + ": cannot open");
    std::stringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    for (std::size_t at = text.find(kOpen); at != std::string::npos; at = text.find(kOpen, at + 1)) ++markers;
    std::vector<ReportIssue> issues;
    const std::string updated = report_page(results_dir, page, text, issues);
    if (write && updated != text) write_file_atomically(page, updated);
    all.insert(all.end(), issues.begin(), issues.end());
  }
  for (const ReportIssue& i : all) std::printf("%s:%d: %s\n", i.page.c_str(), i.line, i.message.c_str());
  std::printf("report: %d numbers on %zu pages, %zu %s\n", markers, pages.size(), all.size(),
              write ? "rewritten" : "disagree with their CSV");
  return all;
}
