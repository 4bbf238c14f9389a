# Рабочий список услугодателя: строки на русском языке.
# Названия из каталога (услуги, документы, шаги, основания для отказа) берутся из самого каталога.

app-title = Рабочий список услугодателя
nav-my-tasks = Мои задачи
lang-label = Язык
role-label = Роль

role-clerk = Сотрудник канцелярии
role-head = Руководитель
role-executor = Ответственный исполнитель

pick-role-heading = Ваши роли
pick-role-hint = Выберите роль для работы

worklist-heading = { $role }: мои задачи
tasks-count =
    { $count ->
        [one] { $count } задача
        [few] { $count } задачи
       *[many] { $count } задач
    }
worklist-empty = Задач нет

col-number = №
col-registration = Регистрационный номер
col-service = Услуга
col-step = Шаг
col-role = Роль
col-action = Действие
col-norm = Норматив
col-started = Начат
col-due = Срок
col-ended = Завершен
col-status = Статус
col-comment = Комментарий
col-document = Документ

status-overdue = Просрочено
status-in-progress = В работе
status-late = С опозданием
status-on-time = В срок
no-norm = без норматива
norm-s = { $count } сек
norm-min = { $count } мин
norm-h = { $count } ч
norm-cd =
    { $count ->
        [one] { $count } календарный день
        [few] { $count } календарных дня
       *[many] { $count } календарных дней
    }
norm-wd =
    { $count ->
        [one] { $count } рабочий день
        [few] { $count } рабочих дня
       *[many] { $count } рабочих дней
    }
open-case = Открыть

case-heading = Дело { $number }
field-case-id = Идентификатор дела
section-service = Услуга
field-service = Наименование услуги
field-provider = Услугодатель
field-opened = Открыто
field-term = Срок оказания услуги
field-policy = Способ обработки
policy-auto = автоматически
policy-manual = сотрудниками

section-applicant = Услугополучатель
field-recipient-iin = ИИН
field-representative-iin = ИИН представителя
field-power-of-attorney = Номер доверенности
field-child-iin = ИИН ребенка
field-channel = Канал подачи
channel-portal = Портал (ПЭП)
channel-state_corporation = Государственная корпорация (ЦОН)
channel-provider = Канцелярия услугодателя
channel-unspecified = не указан

section-documents = Документы (пункт 9 стандарта)
doc-present = Приложен
doc-missing = Отсутствует
doc-required = обязательный
doc-optional = необязательный
documents-none = Стандарт не называет документов

section-history = История шагов
step-current = текущий

taken-register = Зарегистрировано
taken-assign = Назначен исполнитель
taken-draft = Проект подготовлен
taken-sign = Подписано
taken-issue = Выдано
taken-refuse = Отказано

section-result = Результат
result-none = Результата пока нет
result-kind = Вид документа
result-decided-at = Дата решения
result-text = Текст
result-delivery = Доставка
result-ground = Основание для отказа
result-reason = Комментарий
result-delivered = Доставлен в систему { $system }
result-delivery-pending = Ожидает доставки в систему { $system }
result-at-office = Результат выдается в канцелярии
result-kind-certificate = Справка
result-kind-notification = Уведомление
result-kind-referral = Направление
result-kind-conclusion = Заключение
result-kind-contract = Договор
result-kind-resolution = Постановление
result-kind-refusal = Мотивированный отказ

section-action = Текущий шаг
action-step-of = Шаг выполняет: { $role }
action-not-yours = Смените роль или дождитесь своего шага
case-closed-note = Дело закрыто, результат выдан

action-register = Зарегистрировать
action-assign = Назначить исполнителя
action-draft = Подготовить проект результата
action-sign = Подписать
action-issue = Выдать результат
action-refuse = Отказать

form-executor = Исполнитель: { $name }
form-result = Результат: { $result }
form-comment = Комментарий
form-ground = Основание для отказа (пункт 10 стандарта)
form-ground-choose = — выберите основание —
form-refuse-heading = Мотивированный отказ

done = Шаг выполнен: { $action }

error-heading = Действие не выполнено
error-unchanged = Дело не изменено
error-detail = Подробности
error-invalid_argument = Неверный запрос
error-unknown_service = Такой услуги нет
error-channel_not_offered = Услуга не оказывается через этот канал
error-case_not_found = Дело не найдено
error-case_closed = Дело закрыто
error-wrong_role = Этот шаг выполняет другая роль
error-wrong_action = Действие не соответствует текущему шагу
error-refusal_ground = Не указано или неверно основание для отказа
error-shutting_down = Система останавливается
error-internal = Внутренняя ошибка

footer-signin = Вход по учётной записи рабочего списка; каждый шаг записывает, кто его выполнил
footer-clock = Время системы
col-actor = Исполнил
sign-out = Выйти
error-forbidden = У вас нет роли для этого
