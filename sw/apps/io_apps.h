#pragma once
// Applications of the I/O workloads, each a thread calling the I/O manager's system services:
//   DiskExerciser  writes a region of the disk with a pattern in requests of N sectors, reads
//                  it back and checks every word (sequential), or reads random requests within
//                  it (random); synchronous or with several asynchronous requests in flight
//   FileCopy       writes a pattern to one region, copies it request by request to another
//                  on the same or another disk (read, write, read back), and checks the copy
//                  against the pattern
// Buffers are in the simulated RAM (the I/O manager's pool); data moves through the CPU, the
// disk controller and the DMA engine, so a pattern that comes back proves the whole path.
#include <cstdint>
#include <string>

#include "sw/io/io_manager.h"

namespace apps {

struct DiskAppParams {
  std::string path = "\\??\\PhysicalDrive0";
  std::uint64_t first_lba = 0;
  std::uint64_t sectors = 256;        // the region
  std::uint32_t request_sectors = 8;  // per request
  std::uint64_t passes = 1;           // 0 = until the simulation ends
  bool random = false;                // random reads after the first write pass
  std::uint32_t seed = 1;
  std::uint64_t copy_to_lba = 0;  // FileCopy's destination
  std::string copy_to_path;       // FileCopy's destination device; empty = `path`
  std::uint32_t queue_depth = 1;  // reads in flight (above 1: asynchronous requests)
};

struct DiskAppCounts {
  std::uint64_t requests = 0, bytes = 0, passes = 0, mismatches = 0, errors = 0;
};

class DiskExerciser {
 public:
  DiskExerciser(io::IoManager& io, DiskAppParams params) : io_(io), p_(params) {}
  void main();
  const DiskAppCounts& counts() const { return counts_; }

 private:
  std::uint32_t pattern(std::uint64_t pass, std::uint64_t byte_offset) const;
  bool transfer(bool write, io::Handle h, std::uint64_t buffer, std::uint64_t lba,
                std::uint32_t sectors);

  io::IoManager& io_;
  DiskAppParams p_;
  DiskAppCounts counts_;
};

class FileCopy {
 public:
  FileCopy(io::IoManager& io, DiskAppParams params) : io_(io), p_(params) {}
  void main();
  const DiskAppCounts& counts() const { return counts_; }

 private:
  io::IoManager& io_;
  DiskAppParams p_;
  DiskAppCounts counts_;
};

// Reads what arrives on a serial port and writes it back, until the simulation ends.
class SerialEcho {
 public:
  SerialEcho(io::IoManager& io, std::string path = "\\??\\COM1")
      : io_(io), path_(std::move(path)) {}
  void main();
  const DiskAppCounts& counts() const { return counts_; }

 private:
  io::IoManager& io_;
  std::string path_;
  DiskAppCounts counts_;
};

}  // namespace apps
