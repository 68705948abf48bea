// shifted_images.h: training images moved by a few pixels, drawn anew every
// epoch. An augmentation this project adds (`--shift N`), not the RAM
// paper's setup: the paper trains 28x28 MNIST on the images as they are.
//
// Each epoch, each training image moves by (dx, dy), each drawn uniformly
// from the whole numbers -N..N; what leaves the frame is lost and what enters
// it is 0, the background of MNIST. The image keeps its size, so the model
// and the sensor are those of the data set without the shift. Validation and
// test images are never moved: the score is on the images as they are.
// Each image's move comes from its own random stream (the key, its index),
// so the images are the same on every machine and thread count.
#pragma once

#include <cstdint>

#include "datasets/dataset.h"

// Every image of `images` moved by its own (dx, dy) in -shift..shift, drawn
// from the stream mix_key(key, index). Throws std::invalid_argument when
// shift is negative or not smaller than the images' height and width.
Dataset shift_images(const Dataset& images, int shift, uint64_t key);

// Makes data.training_epoch (or, for data read as it is, the training
// split of every epoch) the shifted images of that epoch, keyed by seed and
// epoch; data.train becomes epoch 0's. shift 0 leaves data as it is.
void shift_training_images(DataSplits& data, int shift, uint64_t seed);
