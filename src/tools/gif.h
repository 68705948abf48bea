// gif.h: canvases as one animated GIF (GIF89a), written here: a fixed
// 256-colour palette and the LZW coder the format prescribes. For `ram show
// --gif`: the glimpses of an episode one after the other, as the PyTorch RAM
// port's README shows them.
//
// The palette is the 6 x 6 x 6 colour cube (levels 0, 51, ..., 255) and 40
// greys between its levels, so a grey digit keeps 46 shades and the
// drawing's colours land on their nearest cube colour. Not a general
// quantiser: photographs lose colour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/canvas.h"

constexpr int kGifPaletteSize = 256;
Color gif_palette_color(int index);
// The palette entry nearest to c (squared RGB distance; ties to the lower index).
int gif_palette_index(Color c);

// The GIF file's bytes: every frame at full size (all of one size), shown
// for delays_cs[i] hundredths of a second each, looping forever.
std::string encode_gif(const std::vector<Canvas>& frames, const std::vector<int>& delays_cs);
// encode_gif written atomically (train/atomic_file.h).
void save_gif(const std::string& path, const std::vector<Canvas>& frames, const std::vector<int>& delays_cs);
