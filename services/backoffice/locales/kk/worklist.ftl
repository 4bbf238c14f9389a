# Көрсетілетін қызметті берушінің жұмыс тізімі: қазақ тіліндегі жолдар.
# Каталогтағы атаулар (қызметтер, құжаттар, қадамдар, бас тарту негіздері) каталогтың өзінен алынады.

app-title = Қызмет берушінің жұмыс тізімі
nav-my-tasks = Менің тапсырмаларым
lang-label = Тіл
role-label = Рөл

role-clerk = Кеңсе маманы
role-head = Басшы
role-executor = Жауапты орындаушы

pick-role-heading = Рөлдеріңіз
pick-role-hint = Жұмыс істейтін рөлді таңдаңыз

worklist-heading = { $role }: менің тапсырмаларым
tasks-count = { $count } тапсырма
worklist-empty = Тапсырмалар жоқ

col-number = №
col-registration = Тіркеу нөмірі
col-service = Қызмет
col-step = Қадам
col-role = Рөл
col-action = Әрекет
col-norm = Норма
col-started = Басталды
col-due = Орындау мерзімі
col-ended = Аяқталды
col-status = Күйі
col-comment = Түсініктеме
col-document = Құжат

status-overdue = Мерзімі өтті
status-in-progress = Орындалуда
status-late = Кешіктірілді
status-on-time = Мерзімінде
no-norm = норма жоқ
norm-s = { $count } сек
norm-min = { $count } мин
norm-h = { $count } сағ
norm-cd = { $count } күнтізбелік күн
norm-wd = { $count } жұмыс күні
open-case = Ашу

case-heading = Іс { $number }
field-case-id = Іс идентификаторы
section-service = Қызмет
field-service = Қызмет атауы
field-provider = Көрсетілетін қызметті беруші
field-opened = Ашылды
field-term = Қызмет көрсету мерзімі
field-policy = Өңдеу тәсілі
policy-auto = автоматты түрде
policy-manual = қызметкерлер арқылы

section-applicant = Көрсетілетін қызметті алушы
field-recipient-iin = ЖСН
field-representative-iin = Өкілдің ЖСН
field-power-of-attorney = Сенімхат нөмірі
field-child-iin = Баланың ЖСН
field-channel = Өтініш беру арнасы
channel-portal = Портал (ЭҮП)
channel-state_corporation = Мемлекеттік корпорация (ХҚО)
channel-provider = Көрсетілетін қызметті берушінің кеңсесі
channel-unspecified = белгісіз

section-documents = Құжаттар (Стандарттың 9-тармағы)
doc-present = Тапсырылды
doc-missing = Жоқ
doc-required = міндетті
doc-optional = міндетті емес
documents-none = Стандарт құжаттарды атамайды

section-history = Қадамдар тарихы
step-current = ағымдағы

taken-register = Тіркелді
taken-assign = Орындаушы тағайындалды
taken-draft = Жоба дайындалды
taken-sign = Қол қойылды
taken-issue = Берілді
taken-refuse = Бас тартылды

section-result = Нәтиже
result-none = Нәтиже әлі жоқ
result-kind = Құжат түрі
result-decided-at = Шешім күні
result-text = Мәтіні
result-delivery = Жеткізу
result-ground = Бас тарту негізі
result-reason = Түсініктеме
result-delivered = { $system } жүйесіне жеткізілді
result-delivery-pending = { $system } жүйесіне жеткізілуде
result-at-office = Нәтиже кеңседе беріледі
result-kind-certificate = Анықтама
result-kind-notification = Хабарлама
result-kind-referral = Жолдама
result-kind-conclusion = Қорытынды
result-kind-contract = Шарт
result-kind-resolution = Қаулы
result-kind-refusal = Дәлелді бас тарту

section-action = Ағымдағы қадам
action-step-of = Қадамды орындайтын рөл: { $role }
action-not-yours = Рөліңізді ауыстырыңыз немесе өз кезегіңізді күтіңіз
case-closed-note = Іс жабылды, нәтиже берілді

action-register = Тіркеу
action-assign = Орындаушыны тағайындау
action-draft = Нәтиже жобасын дайындау
action-sign = Қол қою
action-issue = Нәтижені беру
action-refuse = Бас тарту

form-executor = Орындаушы: { $name }
form-result = Нәтиже: { $result }
form-comment = Түсініктеме
form-ground = Бас тарту негізі (Стандарттың 10-тармағы)
form-ground-choose = — негізді таңдаңыз —
form-refuse-heading = Дәлелді бас тарту

done = Қадам орындалды: { $action }

error-heading = Әрекет орындалмады
error-unchanged = Іс өзгерген жоқ
error-detail = Толығырақ
error-invalid_argument = Сұрау дұрыс емес
error-unknown_service = Мұндай қызмет жоқ
error-channel_not_offered = Қызмет бұл арна арқылы көрсетілмейді
error-case_not_found = Іс табылмады
error-case_closed = Іс жабық
error-wrong_role = Бұл қадам басқа рөлдікі
error-wrong_action = Бұл әрекет ағымдағы қадамға сәйкес келмейді
error-refusal_ground = Бас тарту негізі көрсетілмеген немесе дұрыс емес
error-shutting_down = Жүйе тоқтап жатыр
error-internal = Ішкі қате

footer-signin = Жұмыс тізімінің есептік жазбасымен кірдіңіз; әр қадам оны кім орындағанын жазады
footer-clock = Жүйе уақыты
col-actor = Орындаған
sign-out = Шығу
error-forbidden = Бұл үшін сізде рөл жоқ
