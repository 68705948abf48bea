// atomic_file.h: files that are either the old version or the new one.
//
// Everything the program rewrites (checkpoints, metrics.csv, command.txt,
// figures, the experiments' CSVs) goes through AtomicFile: the bytes go to
// PATH.tmp in the same directory, are flushed to the disk (fsync), and only
// then renamed over PATH, which POSIX makes atomic. A kill at any instant
// leaves PATH whole, old or new; a failed write (a full disk, a file-size
// limit) throws an error naming the file and removes PATH.tmp.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

class AtomicFile {
 public:
  // Opens PATH.tmp for writing; throws std::runtime_error naming it on failure.
  explicit AtomicFile(const std::string& path);
  // Without commit() (an exception on the way), PATH.tmp is removed and PATH
  // keeps what it had.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* bytes, std::size_t count);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // Flushes, fsyncs, closes and renames PATH.tmp to PATH, then fsyncs the
  // directory so that the rename itself is on the disk.
  void commit();
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
};

// PATH's whole contents replaced by `text`, atomically.
void write_file_atomically(const std::string& path, const std::string& text);
