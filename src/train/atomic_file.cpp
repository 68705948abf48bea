// atomic_file.cpp: write to PATH.tmp, fsync, rename (atomic_file.h).
#include "train/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

AtomicFile::AtomicFile(const std::string& path) : path_(path), temp_(path + ".tmp") {
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) throw std::runtime_error(temp_ + ": cannot write: " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

void AtomicFile::fail(const std::string& what) {
  const std::string reason = std::strerror(errno);
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::remove(temp_.c_str());
  throw std::runtime_error(path_ + ": " + what + ": " + reason + " (the previous " + path_ + " is kept)");
}

void AtomicFile::write(const void* bytes, std::size_t count) {
  if (count && std::fwrite(bytes, 1, count, file_) != count) fail("write failed");
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0) fail("write failed");
  if (fsync(fileno(file_)) != 0) fail("write failed");
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) {
    std::remove(temp_.c_str());
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp_.c_str());
    throw std::runtime_error(path_ + ": cannot rename " + temp_ + " to it: " + reason);
  }
  // The rename lives in the directory: flush that too (best effort; some
  // file systems refuse to fsync a directory).
  const std::string::size_type slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}
