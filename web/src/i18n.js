// English and German: the desktop's words, picked from the browser's language.
const words = {
  en: {
    signIn: 'Sign in', name: 'Name', password: 'Password', wrong: 'The name or password is wrong.',
    tooMany: 'Too many attempts. Wait a few minutes, then try again.',
    ended: 'Your session has ended. Please sign in again.', signOut: 'Sign out',
    ready: 'Ready', notReady: 'Not ready', loggedOut: 'Logged out', reason: 'Reason',
    offers: 'Offers', assigned: 'My work', accept: 'Accept', reject: 'Reject', nothing: 'Nothing here.',
    left: 's left', reply: 'Reply', save: 'Save draft', saved: 'Draft saved.', release: 'Release',
    released: 'Released.', choose: 'Choose an interaction to read it.', lost: 'Connection lost: reconnecting…',
    shortcuts: 'Keyboard shortcuts', close: 'Close', inState: 'in this state for',
    setPassword: 'Set your password', passwordRule: 'At least 12 characters.', passwordSet: 'Your password is set. Sign in.',
    from: 'From', subject: 'Subject',
    reviews: 'Reviews', review: 'Review', why: 'Why reviewed', customer: 'The customer wrote', edit: 'Edit',
    change: 'Your change', approve: 'Approve', editApprove: 'Approve as edited', comment: 'Comment for the author',
    returnIt: 'Return for revision', reassignTo: 'Reviewer', reassign: 'Reassign', chooseReview: 'Choose a review.',
    desk: 'Desk', returned: 'Returned by the reviewer', waiting: 'Released: it waits for a reviewer.',
    dashboard: 'Dashboard', queues: 'Queues', queue: 'Queue', depth: 'Waiting', atRisk: 'At risk', breached: 'Breached',
    oldest: 'Oldest', inTarget: 'In target', agents: 'Agents', agent: 'Agent', state: 'State', since: 'For', load: 'Load',
    waitingIn: 'Waiting in', selected: 'The selected', moveTo: 'Queue', move: 'Move', assignTo: 'Agent', assign: 'Assign',
    priority: 'priority', setPriority: 'Set priority', done: 'done',
    audit: 'Audit', search: 'Search', principal: 'Principal', eventType: 'Type', kind: 'Kind', interventions: 'Interventions',
    interaction: 'Interaction', fromTime: 'From', toTime: 'Until', found: 'events found', more: 'More', export: 'Export',
    verify: 'Verify the chain', chainOk: 'The chain verifies', eventsLinks: 'events, links', chainBroken: 'The chain does not verify',
    when: 'Recorded', stream: 'Stream', envelope: 'Envelope', hash: 'Hash', prevHash: 'Previous hash',
    responses: 'Standard responses', suggested: 'Suggested', searchResponses: 'Find a response', use: 'Use',
    inserted: 'Inserted',
  },
  de: {
    signIn: 'Anmelden', name: 'Name', password: 'Passwort', wrong: 'Name oder Passwort ist falsch.',
    tooMany: 'Zu viele Versuche. Bitte einige Minuten warten.',
    ended: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.', signOut: 'Abmelden',
    ready: 'Bereit', notReady: 'Nicht bereit', loggedOut: 'Abgemeldet', reason: 'Grund',
    offers: 'Angebote', assigned: 'Meine Arbeit', accept: 'Annehmen', reject: 'Ablehnen', nothing: 'Nichts vorhanden.',
    left: ' s übrig', reply: 'Antwort', save: 'Entwurf speichern', saved: 'Entwurf gespeichert.', release: 'Freigeben',
    released: 'Freigegeben.', choose: 'Wählen Sie eine Interaktion aus.', lost: 'Verbindung verloren: neuer Versuch…',
    shortcuts: 'Tastenkürzel', close: 'Schließen', inState: 'in diesem Zustand seit',
    setPassword: 'Passwort festlegen', passwordRule: 'Mindestens 12 Zeichen.', passwordSet: 'Ihr Passwort ist gesetzt. Bitte anmelden.',
    from: 'Von', subject: 'Betreff',
    reviews: 'Prüfungen', review: 'Prüfung', why: 'Geprüft weil', customer: 'Der Kunde schrieb', edit: 'Bearbeiten',
    change: 'Ihre Änderung', approve: 'Freigeben', editApprove: 'Bearbeitet freigeben', comment: 'Kommentar an den Autor',
    returnIt: 'Zur Überarbeitung zurück', reassignTo: 'Prüfer', reassign: 'Neu zuweisen', chooseReview: 'Wählen Sie eine Prüfung.',
    desk: 'Arbeitsplatz', returned: 'Vom Prüfer zurückgegeben', waiting: 'Freigegeben: wartet auf die Prüfung.',
    dashboard: 'Übersicht', queues: 'Warteschlangen', queue: 'Warteschlange', depth: 'Wartend', atRisk: 'Gefährdet', breached: 'Verletzt',
    oldest: 'Älteste', inTarget: 'Im Ziel', agents: 'Agenten', agent: 'Agent', state: 'Zustand', since: 'Seit', load: 'Last',
    waitingIn: 'Wartend in', selected: 'Die ausgewählten', moveTo: 'Warteschlange', move: 'Verschieben', assignTo: 'Agent', assign: 'Zuweisen',
    priority: 'Priorität', setPriority: 'Priorität setzen', done: 'erledigt',
    audit: 'Prüfpfad', search: 'Suchen', principal: 'Handelnder', eventType: 'Typ', kind: 'Art', interventions: 'Eingriffe',
    interaction: 'Interaktion', fromTime: 'Von', toTime: 'Bis', found: 'Ereignisse gefunden', more: 'Mehr', export: 'Exportieren',
    verify: 'Kette prüfen', chainOk: 'Die Kette ist gültig', eventsLinks: 'Ereignisse, Verknüpfungen', chainBroken: 'Die Kette ist ungültig',
    when: 'Aufgezeichnet', stream: 'Strom', envelope: 'Umschlag', hash: 'Hash', prevHash: 'Vorheriger Hash',
    responses: 'Textbausteine', suggested: 'Vorgeschlagen', searchResponses: 'Baustein suchen', use: 'Verwenden',
    inserted: 'Eingefügt',
  },
};

const lang = (navigator.language || 'en').toLowerCase().startsWith('de') ? 'de' : 'en';
document.documentElement.lang = lang;

export function t(key) {
  return words[lang][key] || words.en[key] || key;
}
