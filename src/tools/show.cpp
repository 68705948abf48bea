// show.cpp: `ram show`, the picture of an episode (RAM figure 1 in action):
// where the location network sends the sensor, what the retina returns, and
// how the classifier's belief changes glimpse by glimpse.
//
// Each test image gets a panel:
//   the image, enlarged, with every glimpse's retina squares (the inner patch
//   drawn thicker), the path from glimpse to glimpse and the glimpse numbers;
//   under it, per glimpse t, the K patches rho_t the sensor returned (each
//   P x P, as the glimpse network sees them), the class the action network
//   picks from h_t and its probability (from O_t = f_a(h_t)).
// The panel's title is the true class, the final guess and its probability,
// green when right, red when wrong. --animate writes one grid per glimpse t
// (glimpses 1..t drawn), --gif the same frames as one animated GIF
// (tools/gif.h).
#include "tools/show.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "kernels/random.h"
#include "model/ram.h"
#include "tools/canvas.h"
#include "tools/gif.h"
#include "train/checkpoint.h"
#include "train/train.h"

namespace fs = std::filesystem;

namespace {

// Class names short enough for a patch column (CIFAR-10's batches.meta and
// Fashion-MNIST's README give the long ones, in this order).
std::string class_name(const std::string& dataset, int a) {
  static const char* cifar10[] = {"plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  static const char* fashion[] = {"top", "pants", "pull", "dress", "coat", "sandl", "shirt", "snkr", "bag", "boot"};
  if (dataset == "cifar10" && a < 10) return cifar10[a];
  if (dataset == "fashion-mnist" && a < 10) return fashion[a];
  return std::to_string(a);
}

// Glimpse t of T in a bright hue, from yellow through green and cyan to
// magenta, so that the order reads from the colours alone.
Color glimpse_color(int t, int T) {
  const double hue = 6.0 * (0.15 + 0.7 * (T > 1 ? static_cast<double>(t) / (T - 1) : 0.0));
  const int sector = static_cast<int>(hue) % 6;
  const double f = hue - std::floor(hue);
  const auto byte = [](double v) { return static_cast<uint8_t>(std::lround(255 * v)); };
  switch (sector) {
    case 0: return {255, byte(f), 0};
    case 1: return {byte(1 - f), 255, 0};
    case 2: return {0, 255, byte(f)};
    case 3: return {0, byte(1 - f), 255};
    case 4: return {byte(f), 0, 255};
    default: return {255, 0, byte(1 - f)};
  }
}

void blit(Canvas& to, const Canvas& from, int x, int y) {
  for (int j = 0; j < from.height(); ++j)
    for (int i = 0; i < from.width(); ++i) to.set(x + i, y + j, from.get(i, j));
}

struct Layout {
  int zoom, image_w, image_h;  // the enlarged image
  int patch_zoom, column;      // each patch cell, each glimpse's column
  int width, height;           // the panel
  int image_top, patches_top;
};

Layout layout(const ModelConfig& c) {
  Layout L;
  L.zoom = std::max(1, 224 / std::max(c.width, c.height));
  L.image_w = L.zoom * c.width;
  L.image_h = L.zoom * c.height;
  L.patch_zoom = std::max(1, 24 / c.patch);
  L.column = std::max(c.patch * L.patch_zoom, 30) + 4;
  L.width = std::max(L.image_w, c.glimpses * L.column) + 16;
  L.image_top = 30;
  L.patches_top = L.image_top + L.image_h + 10;
  L.height = L.patches_top + 12 + c.scales * (c.patch * L.patch_zoom + 3) + 40;
  return L;
}

// One image's panel, showing glimpses 1..upto.
Canvas draw_panel(const ModelConfig& c, const std::string& dataset, const Episode& ep, int j, int upto) {
  const Layout L = layout(c);
  const int T = c.glimpses, B = ep.B, A = c.classes, P = c.patch, K = c.scales, C = c.channels;
  const uint8_t* image = ep.images[j];  // [C, H, W]
  Canvas panel(L.width, L.height);

  // The enlarged image, on its own canvas so that squares reaching past the
  // image's edge are cut off there.
  Canvas picture(L.image_w, L.image_h);
  const std::size_t plane = static_cast<std::size_t>(c.height) * c.width;
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * c.width + x;
      const Color p = C == 3 ? Color{image[i], image[plane + i], image[2 * plane + i]}
                             : Color{image[i], image[i], image[i]};
      picture.fill_rect(x * L.zoom, y * L.zoom, (x + 1) * L.zoom - 1, (y + 1) * L.zoom - 1, p);
    }
  const auto location = [&](int t) { return ep.l.data() + (static_cast<std::size_t>(t) * ep.capacity + j) * 2; };
  const auto centre = [&](int t, int d) {
    const double pixels = ((d == 0 ? c.width : c.height) - 1) / 2.0 + location(t)[d] * c.unit_pixels;
    return static_cast<int>(std::lround((pixels + 0.5) * L.zoom));
  };
  for (int t = 0; t < upto; ++t)
    for (int s = K - 1; s >= 0; --s) {
      const PatchBox box = glimpse_patch_box(c, location(t)[0], location(t)[1], s);
      picture.rect(box.x0 * L.zoom, box.y0 * L.zoom, (box.x0 + box.side) * L.zoom - 1,
                   (box.y0 + box.side) * L.zoom - 1, glimpse_color(t, T), s == 0 ? 2 : 1);
    }
  for (int t = 1; t < upto; ++t)
    picture.line(centre(t - 1, 0), centre(t - 1, 1), centre(t, 0), centre(t, 1), glimpse_color(t, T), 2);
  for (int t = 0; t < upto; ++t) {
    const std::string number = std::to_string(t + 1);
    const int w = text_width(number) + 4, x = centre(t, 0) - w / 2, y = centre(t, 1) - 5;
    picture.fill_rect(x, y, x + w - 1, y + 10, glimpse_color(t, T));
    picture.text(x + 2, y + 2, number, {0, 0, 0});
  }
  blit(panel, picture, (L.width - L.image_w) / 2, L.image_top);

  // O_t of this image: packed [T + 1, B, A], log-probabilities.
  const auto guess = [&](int t, double* probability) {
    const real* o = ep.O.data() + (static_cast<std::size_t>(t) * B + j) * A;
    const int a = static_cast<int>(std::max_element(o, o + A) - o);
    *probability = std::exp(static_cast<double>(o[a]));
    return a;
  };
  double p_final = 0;
  const int final_class = guess(upto, &p_final);
  const bool right = final_class == ep.labels[j];
  char title[96];
  std::snprintf(title, sizeof title, "%s -> %s %2.0f%%", class_name(dataset, ep.labels[j]).c_str(),
                class_name(dataset, final_class).c_str(), 100 * p_final);
  panel.text((L.width - text_width(title, 2)) / 2, 8, title, right ? Color{0, 120, 0} : Color{200, 0, 0}, 2);

  // The patches of each glimpse, inner scale on top, and the guess after it.
  const int cell = P * L.patch_zoom, x_left = (L.width - T * L.column) / 2;
  for (int t = 0; t < upto; ++t) {
    const int x = x_left + t * L.column + (L.column - cell) / 2;
    const Color color = glimpse_color(t, T);
    const std::string number = std::to_string(t + 1);
    panel.fill_rect(x, L.patches_top, x + cell - 1, L.patches_top + 9, color);
    panel.text(x + (cell - text_width(number)) / 2, L.patches_top + 1, number, {0, 0, 0});
    const real* rho = ep.rho.data() + (static_cast<std::size_t>(t) * ep.capacity + j) * c.glimpse_features();
    for (int s = 0; s < K; ++s) {
      const int top = L.patches_top + 12 + s * (cell + 3);
      for (int py = 0; py < P; ++py)
        for (int px = 0; px < P; ++px) {
          uint8_t v[3];
          for (int ch = 0; ch < 3; ++ch) {
            const real r = rho[(static_cast<std::size_t>(s * C + (C == 3 ? ch : 0)) * P + py) * P + px];
            v[ch] = static_cast<uint8_t>(std::lround(255 * std::clamp(static_cast<double>(r), 0.0, 1.0)));
          }
          panel.fill_rect(x + px * L.patch_zoom, top + py * L.patch_zoom, x + (px + 1) * L.patch_zoom - 1,
                          top + (py + 1) * L.patch_zoom - 1, {v[0], v[1], v[2]});
        }
      panel.rect(x - 1, top - 1, x + cell, top + cell, color);
    }
    double p = 0;
    const int a = guess(t + 1, &p);
    const std::string name = class_name(dataset, a);
    char percent[16];
    std::snprintf(percent, sizeof percent, "%.0f%%", 100 * p);
    const int below = L.patches_top + 12 + K * (cell + 3) + 2;
    const Color ink = a == ep.labels[j] ? Color{0, 0, 0} : Color{200, 0, 0};
    const int scale = text_width(name, 2) <= L.column - 2 ? 2 : 1;
    panel.text(x + (cell - text_width(name, scale)) / 2, below, name, ink, scale);
    panel.text(x + (cell - text_width(percent)) / 2, below + 18, percent, ink);
  }
  return panel;
}

// The grid of panels with a line saying what it shows.
Canvas draw_grid(const ModelConfig& c, const std::string& dataset, const Episode& ep, int upto,
                 const std::string& caption) {
  const Layout L = layout(c);
  const int columns = std::min(ep.B, std::max(1, static_cast<int>(std::ceil(std::sqrt(ep.B))))),
            rows = (ep.B + columns - 1) / columns;
  Canvas grid(std::max(columns * L.width, text_width(caption, 2) + 20), 36 + rows * L.height);
  grid.text(10, 10, caption, {0, 0, 0}, 2);
  for (int j = 0; j < ep.B; ++j) {
    const int x = (j % columns) * L.width, y = 36 + (j / columns) * L.height;
    blit(grid, draw_panel(c, dataset, ep, j, upto), x, y);
    grid.rect(x, y, x + L.width - 1, y + L.height - 1, {200, 200, 200});
  }
  return grid;
}

}  // namespace

void run_show(const ShowConfig& config) {
  if (config.out.empty() && config.animate_dir.empty() && config.gif.empty())
    throw std::invalid_argument("show: give --out FILE.png, --animate DIR, --gif FILE.gif, or several");
  if (config.count < 1 || config.count > 100) throw std::invalid_argument("--count: must be 1..100");
  TrainedModel trained = load_trained(config.checkpoint, config.dataset, config.data_dir, config.allow_other_data);
  const TrainConfig& c = trained.config;
  const DataSplits& data = trained.data;
  Parameters& params = trained.params;
  if (config.untrained) params.init_uniform(config.seed, kInitRange, c.init);
  const bool random_places = c.model.locations == LocationSource::random;
  if (random_places && config.sample)
    throw std::invalid_argument("--sample: " + config.checkpoint +
                                " looks at random places (--locations random); it has no policy to sample from");

  // Where the evaluation looks (train.h), or samples from the policy.
  const Locations where = config.sample ? Locations::sample : evaluation_locations(c.model);
  const int n = std::min(config.count, data.test.count);
  Episode ep(c.model, n);
  ep.all_outputs = true;
  ep.reward.output = RewardOutput::logprobs;  // the guesses below read probabilities
  ep.resize(n);
  for (int j = 0; j < n; ++j) {
    ep.images[j] = data.test.image(j);
    ep.labels[j] = data.test.labels[j];
    ep.draw_locations(j, config.sample ? mix_key(config.seed, j) : evaluation_stream(c.seed, j), where);
  }
  episode_forward(params, ep, where);
  // The pictures turn probabilities into pixels: weights that overflow the
  // float computation are refused here, not drawn.
  const std::size_t outputs = static_cast<std::size_t>(c.model.glimpses + 1) * n * c.model.classes;
  if (!std::all_of(ep.O.data(), ep.O.data() + outputs, [](real v) { return std::isfinite(v); }))
    throw std::runtime_error(config.checkpoint + ": the model's outputs are not finite (its weights overflow "
                             "the float computation)");

  const int T = c.model.glimpses;
  std::string what = config.untrained ? "untrained (initial weights, seed " + std::to_string(config.seed) + ")"
                                      : fs::path(config.checkpoint).filename().string();
  if (config.sample) what += ", locations sampled (sigma " + std::to_string(c.model.sigma).substr(0, 4) + ")";
  if (random_places) what += ", random places";
  if (!config.out.empty()) {
    draw_grid(c.model, c.dataset, ep, T, c.dataset + " test images, " + what + ", " + std::to_string(T) + " glimpses")
        .save_png(config.out);
    std::printf("wrote %s\n", config.out.c_str());
  }
  if (!config.animate_dir.empty()) {
    std::error_code ec;
    fs::create_directories(config.animate_dir, ec);
    if (ec) throw std::runtime_error(config.animate_dir + ": cannot create the directory: " + ec.message());
    for (int t = 1; t <= T; ++t) {
      char name[32];
      std::snprintf(name, sizeof name, "/glimpse_%02d.png", t);
      draw_grid(c.model, c.dataset, ep, t, c.dataset + ", " + what + ": glimpse " + std::to_string(t) + " of " +
                                                std::to_string(T))
          .save_png(config.animate_dir + name);
    }
    std::printf("wrote %d frames to %s\n", T, config.animate_dir.c_str());
  }
  if (!config.gif.empty()) {
    // Frame t: glimpses 1..t, 0.8 s each; the last one, the whole episode, 3 s.
    std::vector<Canvas> frames;
    std::vector<int> delays_cs;
    for (int t = 1; t <= T; ++t) {
      frames.push_back(draw_grid(c.model, c.dataset, ep, t,
                                 c.dataset + ", " + what + ": glimpse " + std::to_string(t) + " of " + std::to_string(T)));
      delays_cs.push_back(t < T ? 80 : 300);
    }
    save_gif(config.gif, frames, delays_cs);
    std::printf("wrote %s (%d frames)\n", config.gif.c_str(), T);
  }
}
