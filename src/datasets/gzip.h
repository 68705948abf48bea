// gzip.h: reading gzip files (RFC 1952) holding a DEFLATE stream (RFC 1951),
// written here so that Fashion-MNIST's .gz IDX files need no new library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// The uncompressed contents of a gzip file's bytes. Every problem (bad
// header, bad DEFLATE data, a CRC-32 or length that disagrees, truncation)
// throws std::runtime_error "<path>: gzip: <what is wrong>".
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz, const std::string& path);

// CRC-32 of the gzip trailer (polynomial 0xEDB88320, reflected).
uint32_t crc32(const uint8_t* data, std::size_t size);
