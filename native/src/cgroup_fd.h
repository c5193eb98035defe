// Cgroups by id: cgroup storage maps are keyed by an fd of the cgroup, and
// the agent knows its targets only by cgroup id (the directory's inode).
#pragma once

#include <errno.h>
#include <fcntl.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "libbpf_handles.h"

namespace loupe {

// include/linux/exportfs.h: a kernfs file handle is the node's 64-bit id,
// which for a cgroup2 directory is its cgroup id.
constexpr int kFileIdKernfs = 0xfe;

// An fd of the cgroup whose id is cgroupId, opened through the cgroup2 mount
// at mountPoint; invalid, with errno set, when that fails (ESTALE: no such
// cgroup; EPERM: no CAP_DAC_READ_SEARCH, which open_by_handle_at needs).
inline Fd OpenCgroupById(const std::string& mountPoint, uint64_t cgroupId) {
  Fd mount(open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!mount.valid()) return mount;
  union {
    file_handle handle;
    unsigned char bytes[sizeof(file_handle) + sizeof(uint64_t)];
  } buffer{};
  buffer.handle.handle_bytes = sizeof(uint64_t);
  buffer.handle.handle_type = kFileIdKernfs;
  std::memcpy(buffer.handle.f_handle, &cgroupId, sizeof(cgroupId));
  return Fd(open_by_handle_at(mount.get(), &buffer.handle, O_RDONLY | O_CLOEXEC));
}

inline bool IsMissingCgroup(int code) { return code == ESTALE || code == ENOENT; }

}  // namespace loupe
