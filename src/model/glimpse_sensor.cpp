// glimpse_sensor.cpp: the retina rho(x_t, l_{t-1}) (RAM section 3.1).
//
// "Given the coordinates of the glimpse and an input image, the sensor
// extracts a retina-like representation rho(x_t, l_{t-1}) centered at l_{t-1}
// that contains multiple resolution patches." Patch s (s = 0..K-1) is
// P * scale^s pixels wide, centred on the location, and is averaged down to
// P x P, so the outer patches see more of the image at lower resolution.
// Pixels outside the image read as zero (the Torch SpatialGlimpse pads too).
//
// Coordinates: l = (x, y) in [-1, 1]^2, x to the right, y down, (0, 0) the
// image centre; a location maps to the pixel centre
//   c = (width - 1) / 2 + x * unit_pixels,  likewise for rows.
// The patch of side n starts at the pixel round(c - (n - 1) / 2), so for even
// n it is as centred on c as pixels allow.
//
// A cell of patch s averages pool x pool pixels (pool = scale^s): the sum of
// its bytes S, a whole number, then rho = S / (255 pool^2), rounded once.
// Pixels are bytes, so S is exact whether it is added up pixel by pixel or
// read from a summed-area table (four reads: Crow 1984; kept modulo 2^16,
// glimpse_sensor.h says why that is exact), and both give the same bits.
// With K scales of side P * 2^s a glimpse covers about 4^(K-1) times the
// pixels of the finest patch; the table costs (H + 1)(W + 1) additions per
// image, once per episode, and then 4 reads per cell.
//
// Not differentiable in l, and not meant to be: l is trained by REINFORCE.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "model/glimpse_sensor.h"

namespace {

// An image's table at most this large (a 360 x 360 grey image): an episode
// keeps one per image, and the evaluator one episode of 100 images per thread
// (glimpse_tables_pay).
constexpr std::size_t kMaxTableBytes = 256 * 1024;


// The mean of a single pixel, byte / 255, looked up.
struct ByteScale {
  real v[256];
  ByteScale() {
    const RetinaCellMean mean(1);
    for (int i = 0; i < 256; ++i) v[i] = mean(static_cast<uint32_t>(i));
  }
};
const ByteScale kByteToUnit;

// A pixel coordinate clamped to [0, size]: where a cell's edge falls once
// the cell is cut to the image.
int clamp_edge(int x, int size) { return std::min(std::max(x, 0), size); }

// Rows [begin, end) of a cell cut to the image's [0, size): outside pixels
// count as zero, so they are simply not added. An empty cut has end == begin,
// both within [0, size].
struct Span {
  int begin, end;
};
Span cut_to(int begin, int end, int size) { return {clamp_edge(begin, size), clamp_edge(end, size)}; }

// Asks the cache for the lines of [first, last]. Between two glimpses of
// an image a whole step of products passes through the cache, so the rows a
// glimpse reads come from the levels below; asked for all at once, before
// the first is read, they arrive together instead of one row's wait after
// another. The 8 glimpses of a batch of 128 images of 100 x 100 with 4
// scales (one thread, the caches flushed in between) read their tables in
// 2.5 to 2.8 ms with it and 4.3 to 4.4 ms without.
void prefetch(const void* first, const void* last) {
#if defined(__GNUC__)  // GCC and Clang; elsewhere the lines are read when needed
  constexpr std::uintptr_t kLine = 64;
  const auto begin = reinterpret_cast<std::uintptr_t>(first) & ~(kLine - 1);
  for (std::uintptr_t line = begin; line <= reinterpret_cast<std::uintptr_t>(last); line += kLine)
    __builtin_prefetch(reinterpret_cast<const void*>(line));
#else
  (void)first, (void)last;
#endif
}

// rho_0 [C, P, P], the finest patch at (x0, y0): a cell is one pixel.
void patch_of_pixels(const ModelConfig& config, const uint8_t* image, int x0, int y0, real* rho_0) {
  const int C = config.channels, Hi = config.height, Wi = config.width, P = config.patch;
  const Span columns = cut_to(x0, x0 + P, Wi), rows = cut_to(y0, y0 + P, Hi);
  if (columns.begin < columns.end)
    for (int c = 0; c < C; ++c)
      for (int y = rows.begin; y < rows.end; ++y) {
        const uint8_t* row = image + (static_cast<std::size_t>(c) * Hi + y) * Wi;
        prefetch(row + columns.begin, row + columns.end - 1);
      }
  for (int c = 0; c < C; ++c) {
    const uint8_t* plane = image + static_cast<std::size_t>(c) * Hi * Wi;
    real* out = rho_0 + static_cast<std::size_t>(c) * P * P;  // [P, P]
    for (int py = 0; py < P; ++py) {
      real* out_row = out + py * P;
      const int y = y0 + py;
      std::fill(out_row, out_row + P, real(0));
      if (y < 0 || y >= Hi) continue;
      const uint8_t* row = plane + static_cast<std::size_t>(y) * Wi;
      for (int x = columns.begin; x < columns.end; ++x) out_row[x - x0] = kByteToUnit.v[row[x]];
    }
  }
}

// rho_s [C, P, P] of patch s at (x0, y0) from the pixels: every byte of
// every cell is read.
void patch_from_pixels(const ModelConfig& config, const uint8_t* image, int x0, int y0, int pool, real* rho_s) {
  const int C = config.channels, Hi = config.height, Wi = config.width, P = config.patch;
  const RetinaCellMean mean(pool);
  for (int c = 0; c < C; ++c) {
    const uint8_t* plane = image + static_cast<std::size_t>(c) * Hi * Wi;
    real* out = rho_s + static_cast<std::size_t>(c) * P * P;  // [P, P]
    for (int py = 0; py < P; ++py) {
      const Span rows = cut_to(y0 + py * pool, y0 + (py + 1) * pool, Hi);
      for (int px = 0; px < P; ++px) {
        const Span columns = cut_to(x0 + px * pool, x0 + (px + 1) * pool, Wi);
        uint32_t S = 0;
        for (int y = rows.begin; y < rows.end; ++y) {
          const uint8_t* row = plane + static_cast<std::size_t>(y) * Wi;
          for (int x = columns.begin; x < columns.end; ++x) S += row[x];
        }
        out[py * P + px] = mean(S);
      }
    }
  }
}

// The same from the image's table [C, Hi + 1, Wi + 1]. The cells' edges
// cut to the image, x_j = clamp(x0 + j pool) and y_i = clamp(y0 + i pool)
// for i, j = 0..P, meet at (P + 1)^2 corners V[i][j] = T[y_i][x_j], and
//   S[i][j] = V[i+1][j+1] - V[i][j+1] - V[i+1][j] + V[i][j].
// Each corner is read once, a row of them at a time: neighbouring cells
// share their corners. The entries are sums modulo 2^16, and so is the
// difference taken modulo 2^16 (the cast to GlimpseTableSum); S itself is
// below 2^16 (glimpse_tables_pay), so that is S exactly.
void patch_from_table(const ModelConfig& config, const GlimpseTableSum* table, int x0, int y0, int pool,
                      real* rho_s) {
  const int C = config.channels, Hi = config.height, Wi = config.width, P = config.patch;
  const std::size_t ld = static_cast<std::size_t>(Wi) + 1;
  const RetinaCellMean mean(pool);
  int x[65] = {};  // P <= 64 (ModelConfig::validate)
  for (int j = 0; j <= P; ++j) x[j] = clamp_edge(x0 + j * pool, Wi);
  GlimpseTableSum above[65];  // corner row i - 1
  for (int c = 0; c < C; ++c)
    for (int i = 0; i <= P; ++i) {
      const GlimpseTableSum* T_i = table + (static_cast<std::size_t>(c) * (Hi + 1) + clamp_edge(y0 + i * pool, Hi)) * ld;
      prefetch(T_i + x[0], T_i + x[P]);
    }
  for (int c = 0; c < C; ++c) {
    const GlimpseTableSum* T = table + static_cast<std::size_t>(c) * (Hi + 1) * ld;
    real* out = rho_s + static_cast<std::size_t>(c) * P * P;  // [P, P]
    const GlimpseTableSum* T_0 = T + clamp_edge(y0, Hi) * ld;
    for (int j = 0; j <= P; ++j) above[j] = T_0[x[j]];
    for (int i = 1; i <= P; ++i) {
      const GlimpseTableSum* T_i = T + clamp_edge(y0 + i * pool, Hi) * ld;
      real* out_row = out + (i - 1) * P;
      // One pass per corner row, the corners carried in scalars: a second
      // pass reading them back as vectors right after they were stored one
      // by one stalled on store forwarding at every vector.
      GlimpseTableSum left = T_i[x[0]];
      for (int j = 0; j < P; ++j) {
        const GlimpseTableSum right = T_i[x[j + 1]];
        out_row[j] = mean(static_cast<GlimpseTableSum>(right - above[j + 1] - left + above[j]));
        above[j] = left;
        left = right;
      }
      above[P] = left;
    }
  }
}

}  // namespace

// Why the reciprocal gives the division's bits in float. Let D = 255 pool^2
// (below 2^24 for pools up to 256), q = S / D <= 1 the exact mean, and
// p = S * (1 / D) in double: |p - q| < 2^-52 q, below 2^-28 of a float ulp
// of q. p and q round to the same float unless a point halfway between two
// floats lies between them (or on p). Such a point h is an odd multiple of
// some 2^-a, so q != h differ by |S 2^a - n D| / (D 2^a) >= 2^-a / D, more
// than 2^-25 of the ulp: farther than p strays. And q is never such a point:
// a dyadic S / D is (S / d) / 2^c with D = d 2^c, d odd, S / d <= 2^c <= pool^2,
// 17 significant bits at most, where a halfway point needs 25. In double the
// product could differ from the quotient in its last bit, so double divides.
RetinaCellMean::RetinaCellMean(int pool)
    : divisor_(255.0 * pool * pool),
      reciprocal_(1 / divisor_),
      by_reciprocal_(sizeof(real) == sizeof(float) && pool <= 256) {}

PatchBox glimpse_patch_box(const ModelConfig& config, double x, double y, int s) {
  int side = config.patch;
  for (int k = 0; k < s; ++k) side *= config.glimpse_scale;
  const double cx = (config.width - 1) / 2.0 + x * config.unit_pixels;
  const double cy = (config.height - 1) / 2.0 + y * config.unit_pixels;
  return {static_cast<int>(std::floor(cx - (side - 1) / 2.0 + 0.5)),
          static_cast<int>(std::floor(cy - (side - 1) / 2.0 + 0.5)), side};
}

// rho [B, G] with G = K * C * P * P, laid out [K, C, P, P] per image. The
// finest patch (pool 1) reads its pixels, one per cell, whatever the tables:
// that is four times fewer reads than a table's.
void glimpse_sensor(const ModelConfig& config, const Step& now) {
  const int C = config.channels, P = config.patch, K = config.scales;
  const int G = config.glimpse_features();
  const std::size_t table_size = glimpse_table_size(config);
  const real* l = now.l;
  for (int b = 0; b < now.B; ++b) {
    real* rho_b = now.rho + static_cast<std::size_t>(b) * G;
    int pool = 1;  // pixels per retina cell along one side: scale^s
    for (int s = 0; s < K; ++s, pool *= config.glimpse_scale) {
      const PatchBox box = glimpse_patch_box(config, l[2 * b + 0], l[2 * b + 1], s);
      real* rho_s = rho_b + static_cast<std::size_t>(s) * C * P * P;
      if (pool == 1)
        patch_of_pixels(config, now.x[b], box.x0, box.y0, rho_s);
      else if (now.x_tables)
        patch_from_table(config, now.x_tables + b * table_size, box.x0, box.y0, pool, rho_s);
      else
        patch_from_pixels(config, now.x[b], box.x0, box.y0, pool, rho_s);
    }
  }
}

std::size_t glimpse_table_size(const ModelConfig& config) {
  return static_cast<std::size_t>(config.channels) * (config.height + 1) * (config.width + 1);
}

bool glimpse_tables_pay(const ModelConfig& config) {
  const std::size_t size = glimpse_table_size(config);
  if (config.scales < 2 || config.glimpse_scale < 2 || size * sizeof(GlimpseTableSum) > kMaxTableBytes) return false;
  // The largest cell, cut to the image, must sum below 2^16: at most 257 pixels.
  long long pool = 1;
  for (int s = 1; s < config.scales; ++s) pool *= config.glimpse_scale;
  if (std::min<long long>(pool, config.height) * std::min<long long>(pool, config.width) > 257) return false;
  // Pixels the coarse cells of an episode read directly (each patch cut to
  // the image's size), against the table's additions plus its 4 reads a cell.
  const double T = config.glimpses, C = config.channels, P = config.patch;
  double direct = 0, table = static_cast<double>(size);
  int side = config.patch;
  for (int s = 1; s < config.scales; ++s) {
    side *= config.glimpse_scale;
    direct += T * C * std::min(side, config.height) * std::min(side, config.width);
    table += 4 * T * C * P * P;
  }
  return direct > table;
}

namespace {

// Rows y..y+R-1 of an image (Wi bytes each, one after another) into table
// rows y+1..y+R (ld entries each) as running sums along the row:
// T[y + 1 + r][i + 1] = row_{y+r}[0] + ... + row_{y+r}[i]. The R rows' sums
// advance together, column by column: each is a chain of additions that
// waits for its own last one, and R chains side by side keep the adder
// busy where one would leave it waiting.
template <int R>
void running_sums_of_rows(const uint8_t* rows, int Wi, GlimpseTableSum* T_rows, std::size_t ld) {
  GlimpseTableSum running[R] = {};
  for (int r = 0; r < R; ++r) T_rows[r * ld] = 0;
  for (int i = 0; i < Wi; ++i)
    for (int r = 0; r < R; ++r)
      T_rows[r * ld + i + 1] = running[r] = static_cast<GlimpseTableSum>(running[r] + rows[r * Wi + i]);
}

}  // namespace

// T[c][y][x] = sum of the bytes of channel c in rows < y and columns < x,
// in two passes: row y + 1 first takes row y's running sums, four rows at a
// time, then each row from the second on adds the row above, in place. A
// running sum is a chain of additions each waiting for the last; the second
// pass has none, and runs in vectors (docs/performance.md has the two
// against one pass).
void glimpse_tables(const ModelConfig& config, int B, const uint8_t* const* x, GlimpseTableSum* tables) {
  const int C = config.channels, Hi = config.height, Wi = config.width;
  const std::size_t ld = static_cast<std::size_t>(Wi) + 1, size = glimpse_table_size(config);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c) {
      const uint8_t* plane = x[b] + static_cast<std::size_t>(c) * Hi * Wi;
      GlimpseTableSum* T = tables + b * size + static_cast<std::size_t>(c) * (Hi + 1) * ld;
      std::fill(T, T + ld, GlimpseTableSum(0));  // row 0: nothing above
      int y = 0;
      for (; y + 4 <= Hi; y += 4) running_sums_of_rows<4>(plane + std::size_t(y) * Wi, Wi, T + (y + 1) * ld, ld);
      for (; y < Hi; ++y) running_sums_of_rows<1>(plane + std::size_t(y) * Wi, Wi, T + (y + 1) * ld, ld);
      for (int y = 2; y <= Hi; ++y) {
        const GlimpseTableSum* above = T + (y - 1) * ld;
        GlimpseTableSum* T_y = T + y * ld;
        for (std::size_t i = 1; i < ld; ++i) T_y[i] = static_cast<GlimpseTableSum>(T_y[i] + above[i]);
      }
    }
}
