// plot.cpp: the line plot behind every figure of `ram experiment` and `ram plot`.
#include "tools/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "tools/csv_table.h"

namespace {

constexpr int kScale = 2;                    // font scale of every label
constexpr int kChar = 7 * kScale;            // text height in pixels
constexpr Color kInk{0, 0, 0}, kGrid{225, 225, 225};

// A tick label: as few digits as tell the ticks apart.
std::string tick_label(double v, double step) {
  int decimals = 0;
  while (decimals < 6 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  char s[32];
  std::snprintf(s, sizeof s, "%.*f", decimals, std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return s;
}

double tick_step(const std::vector<double>& ticks) { return ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0; }

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, count);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push_back(v);
  return ticks;
}

Canvas draw_plot(const Plot& plot) {
  // The data's extent.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const PlotSeries& s : plot.series) {
    if (s.y.size() != s.x.size() || (!s.low.empty() && s.low.size() != s.x.size()) ||
        (!s.high.empty() && s.high.size() != s.x.size()) || s.low.size() != s.high.size())
      throw std::invalid_argument("plot '" + plot.title + "': series '" + s.label + "' has mismatched sizes");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const double lo = s.low.empty() ? s.y[i] : s.low[i], hi = s.high.empty() ? s.y[i] : s.high[i];
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || !std::isfinite(lo) || !std::isfinite(hi))
        throw std::invalid_argument("plot '" + plot.title + "': series '" + s.label + "' holds a non-finite value");
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min({y_lo, s.y[i], lo});
      y_hi = std::max({y_hi, s.y[i], hi});
    }
  }
  if (!(x_hi >= x_lo)) x_lo = 0, x_hi = 1;
  if (!(y_hi >= y_lo)) y_lo = 0, y_hi = 1;
  if (plot.y_lo < plot.y_hi) y_lo = plot.y_lo, y_hi = plot.y_hi;
  if (x_hi == x_lo) x_lo -= 0.5, x_hi += 0.5;
  if (y_hi == y_lo) y_lo -= 0.5, y_hi += 0.5;
  const std::vector<double> xt = nice_ticks(x_lo, x_hi, 8), yt = nice_ticks(y_lo, y_hi, 6);
  // Axes reach the outer ticks, so that every curve sits inside the frame.
  x_lo = std::min(x_lo, xt.front()), x_hi = std::max(x_hi, xt.back());
  if (plot.y_lo >= plot.y_hi) y_lo = std::min(y_lo, yt.front()), y_hi = std::max(y_hi, yt.back());

  // Layout: title on top, y label and tick labels on the left, x ticks and
  // label below, legend in a column on the right.
  int y_tick_width = 0;
  for (double v : yt) y_tick_width = std::max(y_tick_width, text_width(tick_label(v, tick_step(yt)), kScale));
  int legend_width = 0;
  for (const PlotSeries& s : plot.series) legend_width = std::max(legend_width, text_width(s.label, kScale));
  legend_width += 60;
  const int plot_w = 640, plot_h = 400;
  const int left = 20 + kChar + 12 + y_tick_width + 8, top = 20 + kChar + 20 + (plot.subtitle.empty() ? 0 : 14);
  const int right = left + plot_w, bottom = top + plot_h;
  Canvas canvas(right + 24 + legend_width + 20, bottom + 12 + kChar + 14 + kChar + 20);

  const auto px = [&](double x) { return left + static_cast<int>(std::lround((x - x_lo) / (x_hi - x_lo) * plot_w)); };
  const auto py = [&](double y) {
    const double clamped = std::clamp(y, y_lo, y_hi);
    return bottom - static_cast<int>(std::lround((clamped - y_lo) / (y_hi - y_lo) * plot_h));
  };

  // Grid and ticks.
  for (double v : xt) {
    const int x = px(v);
    canvas.line(x, top, x, bottom, kGrid);
    canvas.line(x, bottom, x, bottom + 5, kInk);
    const std::string label = tick_label(v, tick_step(xt));
    canvas.text(x - text_width(label, kScale) / 2, bottom + 10, label, kInk, kScale);
  }
  for (double v : yt) {
    if (v < y_lo - 1e-12 || v > y_hi + 1e-12) continue;
    const int y = py(v);
    canvas.line(left, y, right, y, kGrid);
    canvas.line(left - 5, y, left, y, kInk);
    const std::string label = tick_label(v, tick_step(yt));
    canvas.text(left - 8 - text_width(label, kScale), y - kChar / 2, label, kInk, kScale);
  }

  // Bands first, then the lines over them.
  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const PlotSeries& s = plot.series[k];
    if (s.low.empty()) continue;
    for (std::size_t i = 0; i + 1 < s.x.size(); ++i) {
      const int xa = px(s.x[i]), xb = px(s.x[i + 1]);
      for (int x = xa; x <= xb; ++x) {
        const double f = xb == xa ? 0.0 : static_cast<double>(x - xa) / (xb - xa);
        const int ya = py(s.low[i] + f * (s.low[i + 1] - s.low[i]));
        const int yb = py(s.high[i] + f * (s.high[i + 1] - s.high[i]));
        for (int y = std::min(ya, yb); y <= std::max(ya, yb); ++y)
          if (x != xb || i + 2 == s.x.size()) canvas.blend(x, y, palette(static_cast<int>(k)), 0.18);
      }
    }
  }
  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const PlotSeries& s = plot.series[k];
    const Color c = palette(static_cast<int>(k));
    for (std::size_t i = 0; i + 1 < s.x.size(); ++i) canvas.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), c, 3);
    if (s.x.size() <= 25)  // markers where the points are few enough to tell apart
      for (std::size_t i = 0; i < s.x.size(); ++i) canvas.fill_rect(px(s.x[i]) - 3, py(s.y[i]) - 3, px(s.x[i]) + 3, py(s.y[i]) + 3, c);
  }
  canvas.rect(left, top, right, bottom, kInk);

  // Labels and legend.
  canvas.text((left + right - text_width(plot.title, kScale)) / 2, 20, plot.title, kInk, kScale);
  canvas.text((left + right - text_width(plot.subtitle)) / 2, 20 + kChar + 8, plot.subtitle, kInk);
  canvas.text((left + right - text_width(plot.x_label, kScale)) / 2, bottom + 12 + kChar + 14, plot.x_label, kInk, kScale);
  canvas.text_vertical(20, (top + bottom + text_width(plot.y_label, kScale)) / 2, plot.y_label, kInk, kScale);
  const int lx = right + 24;
  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const int y = top + 10 + static_cast<int>(k) * (kChar + 12);
    const Color c = palette(static_cast<int>(k));
    if (!plot.series[k].low.empty()) canvas.blend_rect(lx, y - 2, lx + 40, y + kChar + 1, c, 0.18);
    canvas.line(lx, y + kChar / 2, lx + 40, y + kChar / 2, c, 3);
    canvas.text(lx + 50, y, plot.series[k].label, kInk, kScale);
  }
  return canvas;
}

Plot csv_plot(const CsvPlotRequest& request) {
  const bool minutes = request.x == "minutes";
  const std::string x_column = minutes ? "seconds" : request.x;
  Plot plot;
  plot.x_label = request.x;
  plot.y_label = request.y + (request.percent ? ", %" : "");
  plot.title = request.title.empty() ? request.y + " against " + request.x : request.title;
  if (request.y_max > 0) plot.y_lo = 0, plot.y_hi = request.y_max;
  for (const CsvPlotRequest::Curve& curve : request.curves) {
    const CsvTable table = load_csv_table(curve.path);
    const int xc = table.column(curve.path, x_column), yc = table.column(curve.path, request.y);
    PlotSeries series;
    series.label = curve.label;
    for (const auto& row : table.rows) {
      series.x.push_back(csv_number(curve.path, row[xc], x_column) / (minutes ? 60 : 1));
      series.y.push_back(csv_number(curve.path, row[yc], request.y) * (request.percent ? 100 : 1));
    }
    plot.series.push_back(std::move(series));
  }
  return plot;
}
