// plot.h: line plots of the experiments' curves, drawn on a Canvas: axes with
// round-number ticks, axis labels, a title, one coloured line per series with
// an optional shaded band (the spread over seeds), and a legend beside the
// plot so that it never hides a curve.
#pragma once

#include <string>
#include <vector>

#include "tools/canvas.h"

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;       // the line: points (x[i], y[i]), in order of x
  std::vector<double> low, high;  // empty, or a band from low[i] to high[i] at x[i]
};

struct Plot {
  std::string title, x_label, y_label;
  std::string subtitle;  // a smaller line under the title, or ""

  std::vector<PlotSeries> series;
  // The y range; when lo >= hi it is fitted to the data (and the bands).
  double y_lo = 0, y_hi = 0;
};

// Round tick values covering [lo, hi]: multiples of 1, 2 or 5 times a power
// of ten, about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count);

// Draws the plot on a new canvas. Throws std::invalid_argument for a series
// whose x, y, low and high sizes disagree or that holds a non-finite number.
Canvas draw_plot(const Plot& plot);

// `ram plot`: one line per CSV file (a run's metrics.csv, or a copy under
// docs/results/), column x against column y. The x column "minutes" is the
// "seconds" column over 60.
struct CsvPlotRequest {
  struct Curve {
    std::string path, label;
  };
  std::vector<Curve> curves;
  std::string x = "epoch", y = "test_error", title;
  bool percent = false;  // y times 100
  double y_max = 0;      // > 0: the y axis ends there (points above it sit on the edge)
};
// The plot of the request; throws std::runtime_error naming the file (and
// the column) that cannot be read, lacks a column, or holds a non-number.
Plot csv_plot(const CsvPlotRequest& request);
