// gzip.h: reading gzip files (RFC 1952) holding a DEFLATE stream (RFC 1951),
// written here so that Fashion-MNIST's .gz IDX files need no new library; the
// same inflater checks the compressed image data of PNG files (png_check.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The uncompressed contents of a gzip file's bytes, at most max_bytes. Every
// problem (bad header, bad DEFLATE data, a CRC-32 or length that disagrees,
// truncation, a length over max_bytes or over what DEFLATE can unpack from
// the file) throws std::runtime_error "<path>: gzip: <what is wrong>".
// The length the trailer gives is checked before inflating, and inflating
// stops as soon as the data would pass it.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz, const std::string& path, std::size_t max_bytes);

// Inflates the DEFLATE stream at data[0, size) onto the end of `out`, which
// may grow to at most max_out bytes; returns the bytes of data the stream
// took. Every problem throws std::runtime_error "<where>: <what is wrong>";
// output past max_out reads "<where>: unpacks to more than <max_out> bytes,
// <limit_reason>".
std::size_t inflate(const uint8_t* data, std::size_t size, std::size_t max_out, std::vector<uint8_t>& out,
                    const std::string& where, const std::string& limit_reason);

// CRC-32 of the gzip trailer (polynomial 0xEDB88320, reflected).
uint32_t crc32(const uint8_t* data, std::size_t size);

// DEFLATE's largest expansion: a 258-byte copy coded in as little as 2 bits,
// so 1032 bytes out per byte in. A gzip trailer claiming more is a lie.
constexpr std::size_t kDeflateMaxRatio = 1032;
