// What a BpfObject owns: the libbpf object, the verifier log buffers its
// programs load with, every link made from its programs and every ring buffer
// reading its maps. Programs, maps and links share it and check closed()
// before touching libbpf, so nothing is used after close().
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>
#include <vector>

#include "libbpf_handles.h"

namespace loupe {

// Something that must be shut down before the object's maps go away.
class ObjectDependent {
 public:
  virtual ~ObjectDependent() = default;
  virtual void Close() = 0;
};

// A link stays attached until destroy() or until its object is closed; a
// forgotten JavaScript BpfLink does not detach a program.
struct LinkState {
  BpfLinkPtr link;
  uint32_t id = 0;
};

class ObjectState {
 public:
  ObjectState(BpfObjectPtr object, std::string name) : object_(std::move(object)), name_(std::move(name)) {}
  ~ObjectState() { Close(); }
  ObjectState(const ObjectState&) = delete;
  ObjectState& operator=(const ObjectState&) = delete;

  bpf_object* object() const { return object_.get(); }
  const std::string& name() const { return name_; }
  // Closed for JavaScript as soon as close() is called, even while a load on
  // a worker thread defers freeing the object.
  bool closed() const { return object_ == nullptr || closeRequested_; }

  bool loaded = false;
  bool loadFailed = false;

  // While bpf_object__load runs on a worker thread, only that thread touches
  // the object: close() waits for FinishLoading to free it.
  bool loading() const { return loading_; }
  void StartLoading() { loading_ = true; }
  void FinishLoading(bool succeeded) {
    loading_ = false;
    (succeeded ? loaded : loadFailed) = true;
    if (closeRequested_) Close();
  }

  // libbpf keeps a program's log buffer pointer (it cannot be reset after
  // load), so the buffers live as long as the object.
  // Not zeroed: the kernel writes only what it logs, so pages it never
  // touches are never committed.
  char* AddProgramLog(size_t size) {
    programLogs_.emplace_back(new char[size]);
    programLogs_.back()[0] = '\0';
    return programLogs_.back().get();
  }

  void AddLink(std::shared_ptr<LinkState> link) {
    links_.push_back(std::move(link));
  }
  void DestroyLink(const std::shared_ptr<LinkState>& link) {
    link->link.reset();
    for (auto it = links_.begin(); it != links_.end(); ++it) {
      if (*it == link) {
        links_.erase(it);
        break;
      }
    }
  }
  void AddDependent(const std::shared_ptr<ObjectDependent>& dependent) {
    for (auto it = dependents_.begin(); it != dependents_.end();)
      it = it->expired() ? dependents_.erase(it) : it + 1;
    dependents_.push_back(dependent);
  }

  // Ring buffers first (they read the maps), then links, then the object.
  void Close() {
    if (loading_) {
      closeRequested_ = true;
      return;
    }
    for (auto& weak : dependents_)
      if (auto dependent = weak.lock()) dependent->Close();
    dependents_.clear();
    for (auto& link : links_) link->link.reset();
    links_.clear();
    object_.reset();
    programLogs_.clear();
  }

 private:
  BpfObjectPtr object_;
  std::string name_;
  std::vector<std::shared_ptr<LinkState>> links_;
  std::vector<std::weak_ptr<ObjectDependent>> dependents_;
  std::vector<std::unique_ptr<char[]>> programLogs_;
  bool loading_ = false;
  bool closeRequested_ = false;
};

}  // namespace loupe
