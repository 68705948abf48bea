// report.h: numbers on the pages made from the committed CSVs.
//
// A number in README.md or docs/ that a result gives is written between two
// HTML comments (invisible when the page is rendered) that say where it
// comes from:
//
//   <!--csv fig4-mnist.csv series=linear,x=50 mean %.4f-->0.9803<!--/csv-->
//
// FILE is under docs/results/; SELECT picks rows: terms joined by commas,
// applied in order: `key=value` (the cell equals value), `COLUMN<=V`,
// `COLUMN>=V`, `kept=COLUMN` (the rows where COLUMN reaches a new lowest value, as a run
// keeps its best model), and one of `first`, `last`, `min=COLUMN` /
// `max=COLUMN` (the first row where COLUMN is smallest / largest, among the
// rows the other terms keep); or `all`. VALUE is a column (exactly one row must be
// picked), or `count`, `mean:COLUMN`, `median:COLUMN`, `min:COLUMN`,
// `max:COLUMN`, `sum:COLUMN` over the picked rows; FORMAT is a printf format of one double,
// prefixed `pct:` for the value times 100 or `min:` for seconds as minutes. `ram report` writes every such
// number from its CSV; `ram report --check` (run by `make test`) fails,
// naming page, line and both values, where a page disagrees.
#pragma once

#include <string>
#include <vector>

struct ReportIssue {
  std::string page;
  int line = 0;
  std::string message;
  bool rewritable = false;  // a number that differs (rewriting fixes it), not a bad marker
};

// Evaluates one marker's spec ("FILE SELECT VALUE FORMAT") against the CSV
// files under results_dir; throws std::runtime_error naming what is wrong.
std::string report_value(const std::string& results_dir, const std::string& spec);
// Every marker of `text` with its value recomputed; `issues` gains one entry
// per marker whose text differs (or cannot be computed).
std::string report_page(const std::string& results_dir, const std::string& page, const std::string& text,
                        std::vector<ReportIssue>& issues);
// Checks (write = false) or rewrites (write = true) the pages; prints and
// returns the disagreements found (before rewriting).
std::vector<ReportIssue> run_report(const std::string& results_dir, const std::vector<std::string>& pages,
                                    bool write);
