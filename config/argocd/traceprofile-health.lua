-- Argo CD health of a loupe.dev TraceProfile, from what the operator writes in
-- status: phase, the Ready / Progressing / Degraded conditions and
-- observedGeneration. Argo runs this with `obj` set to the live object and
-- reads the returned table's status and message.
-- Written for Lua 5.1 (Argo's interpreter) and tested with lua5.4.
local hs = {}

local function condition(conditions, wanted)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == wanted then return c end
  end
  return nil
end

local function message(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then return c.message end
  return fallback
end

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Loupe operator to report status"
  return hs
end

-- Whatever the status says describes an older spec until the operator has
-- observed this generation: a change just synced from Git is not done yet.
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the Loupe operator to observe generation " .. tostring(generation)
  return hs
end

local ready = condition(status.conditions, "Ready")
local progressing = condition(status.conditions, "Progressing")
local degraded = condition(status.conditions, "Degraded")
local phase = status.phase

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = message(degraded, message(ready, "Tracing failed"))
  return hs
end
if phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = message(ready, "spec.suspend is true")
  return hs
end
if phase == "Completed" then
  -- A finished session is the desired end state: its results stay in status.
  hs.status = "Healthy"
  hs.message = message(ready, "Tracing completed")
  return hs
end
-- Running (and anything newer): some nodes reporting errors is Degraded even
-- while others trace, so Argo surfaces it.
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = message(degraded, "Some nodes report errors")
  return hs
end
if phase == "Running" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "Tracing")
  return hs
end
-- Pending, or Running while nodes are still attaching.
hs.status = "Progressing"
hs.message = message(progressing, message(ready, "Phase " .. tostring(phase)))
return hs
