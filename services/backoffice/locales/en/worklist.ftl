# The provider's back-office worklist: English strings.
# Catalogue names (services, documents, steps, refusal grounds) come from the catalogue itself.

app-title = Provider back office worklist
nav-my-tasks = My tasks
lang-label = Language
role-label = Role

role-clerk = Office clerk
role-head = Head
role-executor = Responsible executor

pick-role-heading = Your roles
pick-role-hint = Choose the role to work in

worklist-heading = { $role }: my tasks
tasks-count =
    { $count ->
        [one] { $count } task
       *[other] { $count } tasks
    }
worklist-empty = No tasks

col-number = #
col-registration = Registration number
col-service = Service
col-step = Step
col-role = Role
col-action = Action
col-norm = Norm
col-started = Started
col-due = Due
col-ended = Ended
col-status = Status
col-comment = Comment
col-document = Document

status-overdue = Overdue
status-in-progress = In progress
status-late = Late
status-on-time = On time
no-norm = no norm
norm-s = { $count } s
norm-min = { $count } min
norm-h = { $count } h
norm-cd =
    { $count ->
        [one] { $count } calendar day
       *[other] { $count } calendar days
    }
norm-wd =
    { $count ->
        [one] { $count } working day
       *[other] { $count } working days
    }
open-case = Open

case-heading = Case { $number }
field-case-id = Case id
section-service = Service
field-service = Service name
field-provider = Provider
field-opened = Opened
field-term = Service term
field-policy = Processing
policy-auto = automatic
policy-manual = by staff

section-applicant = Service recipient
field-recipient-iin = IIN
field-representative-iin = Representative's IIN
field-power-of-attorney = Power of attorney number
field-child-iin = Child's IIN
field-channel = Channel
channel-portal = Portal (e-gov)
channel-state_corporation = State Corporation (PSC)
channel-provider = Provider's office
channel-unspecified = unspecified

section-documents = Documents (Standard item 9)
doc-present = Present
doc-missing = Missing
doc-required = required
doc-optional = optional
documents-none = The Standard names no documents

section-history = History of steps
step-current = current

taken-register = Registered
taken-assign = Executor assigned
taken-draft = Drafted
taken-sign = Signed
taken-issue = Issued
taken-refuse = Refused

section-result = Result
result-none = No result yet
result-kind = Document
result-decided-at = Decided
result-text = Text
result-delivery = Delivery
result-ground = Ground for refusal
result-reason = Comment
result-delivered = Delivered to { $system }
result-delivery-pending = Delivery to { $system } pending
result-at-office = Handed over at the office
result-kind-certificate = Certificate
result-kind-notification = Notification
result-kind-referral = Referral
result-kind-conclusion = Conclusion
result-kind-contract = Contract
result-kind-resolution = Resolution
result-kind-refusal = Reasoned refusal

section-action = Current step
action-step-of = This step is done by: { $role }
action-not-yours = Switch role or wait for your step
case-closed-note = The case is closed; its result was issued

action-register = Register
action-assign = Assign the executor
action-draft = Draft the result
action-sign = Sign
action-issue = Issue the result
action-refuse = Refuse

form-executor = Executor: { $name }
form-result = Result: { $result }
form-comment = Comment
form-ground = Ground for refusal (Standard item 10)
form-ground-choose = — choose a ground —
form-refuse-heading = Reasoned refusal

done = Step done: { $action }

error-heading = The action was not taken
error-unchanged = The case is unchanged
error-detail = Details
error-invalid_argument = Invalid request
error-unknown_service = No such service
error-channel_not_offered = The service is not offered through this channel
error-case_not_found = Case not found
error-case_closed = The case is closed
error-wrong_role = This step belongs to another role
error-wrong_action = The action is not the current step's
error-refusal_ground = The ground for refusal is missing or unknown
error-shutting_down = The back office is shutting down
error-internal = Internal error

footer-signin = signed in with your worklist account; every step records who took it
footer-clock = Stack clock
col-actor = By
sign-out = Sign out
error-forbidden = You do not have the role for this
