// canvas.h: an RGB picture to draw on and save as PNG (stb_image_write), with
// the few primitives the plots and the glimpse pictures need: pixels, lines,
// rectangles, blended fills and text in a 5x7 bitmap font drawn here.
//
// Not a graphics library: no anti-aliasing, integer pixel coordinates,
// (0, 0) the top-left corner, x to the right, y down.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

// The colours of the plots' series, in order; they repeat after kPaletteSize.
constexpr int kPaletteSize = 8;
Color palette(int i);

class Canvas {
 public:
  Canvas(int width, int height, Color background = {255, 255, 255});
  int width() const { return width_; }
  int height() const { return height_; }

  // Pixels outside the canvas are ignored by every primitive.
  void set(int x, int y, Color c);
  Color get(int x, int y) const;
  // c over the pixel with opacity alpha in [0, 1].
  void blend(int x, int y, Color c, double alpha);
  void fill_rect(int x0, int y0, int x1, int y1, Color c);  // inclusive corners
  void blend_rect(int x0, int y0, int x1, int y1, Color c, double alpha);
  // The outline of the rectangle, `thickness` pixels wide, growing inwards.
  void rect(int x0, int y0, int x1, int y1, Color c, int thickness = 1);
  // A straight line, `thickness` pixels wide (a square brush).
  void line(int x0, int y0, int x1, int y1, Color c, int thickness = 1);
  // Text in the 5x7 font, each glyph scaled by `scale` (6 * scale pixels per
  // character, 7 * scale high and 2 * scale more for g, p, q, y), top-left
  // corner at (x, y). Characters outside
  // printable ASCII are drawn as a box.
  void text(int x, int y, const std::string& s, Color c, int scale = 1);
  // Text turned a quarter to the left (reads bottom to top), bottom-left
  // corner at (x, y): for the y-axis label.
  void text_vertical(int x, int y, const std::string& s, Color c, int scale = 1);
  // Writes the canvas as an 8-bit RGB PNG; throws naming the path on failure.
  // Writes the PNG atomically (train/atomic_file.h).
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;  // [height, width, 3]
};

// Width in pixels of s drawn with Canvas::text at this scale.
int text_width(const std::string& s, int scale = 1);
