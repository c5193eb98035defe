// RAII owners for libbpf objects and raw file descriptors: every resource the
// addon takes from libbpf or the kernel is freed by exactly one destructor.
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <memory>

namespace loupe {

struct BpfObjectDeleter {
  void operator()(bpf_object* object) const { bpf_object__close(object); }
};
struct BpfLinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
struct BtfDeleter {
  void operator()(btf* types) const { btf__free(types); }
};
struct RingBufferDeleter {
  void operator()(ring_buffer* ring) const { ring_buffer__free(ring); }
};

using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectDeleter>;
using BpfLinkPtr = std::unique_ptr<bpf_link, BpfLinkDeleter>;
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

// A file descriptor closed on destruction; release() hands it to a new owner
// (libbpf's perf-event links close the perf fd they were given).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace loupe
