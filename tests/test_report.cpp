// test_report.cpp: the pages' numbers recomputed from their CSVs
// (src/tools/report.cpp): every selector and reduction, and a page whose
// number was edited by hand is caught, then rewritten.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "test_files.h"
#include "tools/report.h"

namespace {

std::string fig_csv() {
  return "series,x,mean,min,max\n"
         "linear,1,0.81,0.79,0.82\n"
         "linear,50,0.9803,0.9793,0.9819\n"
         "lstm,1,0.80,0.78,0.83\n"
         "lstm,50,0.9732,0.9689,0.9774\n";
}


}  // namespace

TEST_CASE("report: selectors, reductions and formats") {
  TempDir dir;
  std::ofstream(dir.file("fig.csv")) << fig_csv();
  const std::string d = dir.path();
  CHECK(report_value(d, "fig.csv series=linear,x=50 mean %.4f") == "0.9803");
  CHECK(report_value(d, "fig.csv series=lstm,x=50 min pct:%.1f") == "96.9");
  CHECK(report_value(d, "fig.csv series=lstm,last max %.3f") == "0.977");
  CHECK(report_value(d, "fig.csv min=mean x %g") == "1");
  CHECK(report_value(d, "fig.csv series=linear,x=50 x min:%.2f") == "0.83");
  CHECK(report_value(d, "fig.csv series=linear,max=min x %g") == "50");
  // A CSV rewritten in the same process (an experiment writes its CSV, then
  // its page) is read afresh.
  std::ofstream(dir.file("fig.csv")) << "series,x,mean,min,max\nlinear,50,0.5,0.4,0.6\n";
  CHECK(report_value(d, "fig.csv series=linear,x=50 mean %.4f") == "0.5000");
}

TEST_CASE("report: the first kept model at or under a bound (kept=, <=, >=, first)") {
  TempDir dir;
  // valid_error sets a new lowest value at epochs 1, 2 and 4 (epoch 3 only
  // equals it); epoch 3's test error is under the bound but its model is not kept.
  std::ofstream(dir.file("m.csv")) << "epoch,valid_error,test_error\n"
                                       "1,0.020,0.0200\n2,0.012,0.0110\n3,0.012,0.0100\n4,0.011,0.0105\n5,0.009,0.0090\n";
  const std::string d = dir.path();
  CHECK(report_value(d, "m.csv kept=valid_error count %g") == "4");
  CHECK(report_value(d, "m.csv kept=valid_error,test_error<=0.0107,first epoch %g") == "4");
  CHECK(report_value(d, "m.csv test_error<=0.0107,first epoch %g") == "3");
  CHECK(report_value(d, "m.csv kept=valid_error,last test_error pct:%.2f") == "0.90");
  // At or over a bound: the last three epochs, the bounds on both sides.
  CHECK(report_value(d, "m.csv epoch>=3 count %g") == "3");
  CHECK(report_value(d, "m.csv epoch>=3 max:test_error %.4f") == "0.0105");
  CHECK(report_value(d, "m.csv epoch>=2,epoch<=4 min:test_error %.4f") == "0.0100");
  CHECK_THROWS_WITH_AS(report_value(d, "m.csv seconds<=3,first epoch %g"), doctest::Contains("no column 'seconds'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(report_value(d, "m.csv test_error<=x,first epoch %g"), doctest::Contains("not a number"),
                       std::runtime_error);
}

TEST_CASE("report: reductions over rows, and errors that name the marker") {
  TempDir dir;
  std::ofstream(dir.file("fig.csv")) << fig_csv();
  const std::string d = dir.path();
  CHECK(report_value(d, "fig.csv x=50 count %.0f") == "2");
  CHECK(report_value(d, "fig.csv x=50 mean:mean %.5f") == "0.97675");
  CHECK(report_value(d, "fig.csv series=linear sum:x %.0f") == "51");
  // The median of an odd count is the middle value, of an even count the
  // mean of the middle two (0.79 and 0.9689 of a column out of order).
  CHECK(report_value(d, "fig.csv x=1 median:mean %.3f") == "0.805");
  CHECK(report_value(d, "fig.csv all median:min %.3f") == "0.879");
  CHECK(report_value(d, "fig.csv series=lstm,last median:max %.4f") == "0.9774");
  CHECK_THROWS_WITH_AS(report_value(d, "fig.csv x=50 mean %.4f"), doctest::Contains("2 rows match"), std::runtime_error);
  CHECK_THROWS_WITH_AS(report_value(d, "fig.csv series=linear,x=50 median %.4f"), doctest::Contains("no column 'median'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(report_value(d, "nofile.csv x=1 mean %f"), doctest::Contains("nofile.csv: cannot open"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(report_value(d, "fig.csv x=1,series=linear mean %s"), doctest::Contains("format '%s'"),
                       std::runtime_error);
}

TEST_CASE("report: a number edited by hand is caught, and rewriting restores it") {
  TempDir dir;
  std::ofstream(dir.file("fig.csv")) << fig_csv();
  const std::string page = dir.file("page.md");
  const std::string right = "At epoch 50: <!--csv fig.csv series=linear,x=50 mean %.4f-->0.9803<!--/csv--> (linear),\n"
                            "<!--csv fig.csv series=lstm,x=50 mean pct:%.1f-->97.3<!--/csv--> % (LSTM).\n";
  std::ofstream(page) << right;
  CHECK(run_report(dir.path(), {page}, false).empty());
  std::string edited = right;
  edited.replace(edited.find("97.3"), 4, "98.0");
  std::ofstream(page, std::ios::trunc) << edited;
  const std::vector<ReportIssue> issues = run_report(dir.path(), {page}, false);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].line == 2);
  CHECK(issues[0].message.find("shows 98.0") != std::string::npos);
  CHECK(issues[0].rewritable);
  run_report(dir.path(), {page}, true);
  CHECK(read_text(page) == right);
}
