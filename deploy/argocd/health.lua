-- Argo CD health check for every aws-access-operator kind (group awsaccess.dev:
-- AwsAccount, CrossAccountRole, DeveloperGroup, PartnerAccess, OrganizationalUnit,
-- ServiceControlPolicy).
--
-- Their status follows kstatus: status.observedGeneration plus the conditions
-- Ready, Reconciling and Stalled. Argo CD calls this with the object as `obj`
-- and reads `status` and `message` from the table it returns.
--
-- Argo CD runs custom health scripts in gopher-lua (Lua 5.1) with only the
-- base, table and package libraries open: no `string` library here.
local hs = {}

local function find_condition(conditions, wanted)
  for _, condition in ipairs(conditions) do
    if condition.type == wanted then
      return condition
    end
  end
  return nil
end

local function holds(condition)
  return condition ~= nil and condition.status == "True"
end

-- "Reason: message", as `kubectl describe` would let a user read it.
local function describe(condition)
  local reason = condition.reason or ""
  local message = condition.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  return reason .. message
end

local status = obj.status or {}
local conditions = status.conditions or {}
local generation = obj.metadata and obj.metadata.generation

if #conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile"
  return hs
end

-- Conditions written for an older spec say nothing about the current one
-- (kstatus checks this first too).
local ready = find_condition(conditions, "Ready")
local observed = status.observedGeneration
if ready ~= nil and ready.observedGeneration ~= nil then
  observed = ready.observedGeneration
end
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile generation " .. generation
  return hs
end

-- Nothing will change until the spec (or something outside the operator) does.
local stalled = find_condition(conditions, "Stalled")
if holds(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local reconciling = find_condition(conditions, "Reconciling")
if holds(reconciling) then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end

if holds(ready) then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

-- Ready=False with neither Reconciling nor Stalled: AWS differs from the spec
-- and the operator will not fix it by itself (DriftDetected in Observe mode).
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
