// What the server tells a user (a report approved or rejected, devices assigned): shown at the
// top of the technician's device list until marked read, and counted in the menu. Kept on the
// server, so a second phone or a reload shows the same.

import { S, api, cachedGet, fmtDate, h, put } from './core.js';

const FINDING = {
  capture_time_missing: 'no capture time', capture_time_outside_visit: 'taken outside the visit',
  exact_reuse: 'used in another report', near_duplicate: 'like an earlier photo',
  same_in_report: 'twice in this report', far_from_report: 'far from the other photos', far_from_device: 'far from the ATM',
};

// The menu's count, refreshed after each change.
export async function refreshCount() {
  const el = document.getElementById('notif-count');
  if (!el) return;
  try {
    const { data } = await cachedGet('/api/notifications/?unread=true');
    el.textContent = data.unread ? `Notifications: ${data.unread}` : 'Notifications: none';
    el.dataset.unread = String(data.unread);
  } catch (e) { el.textContent = 'Notifications'; }
}

function flagged(n) {
  const photos = (n.detail && n.detail.flagged_photos) || [];
  if (!photos.length) return null;
  const each = photos.map((p) => `${p.section}.${p.order_index} (${p.kinds.map((k) => FINDING[k] || k).join(', ')})`);
  return h('div', {}, `Flagged photos: ${each.join('; ')}`);
}

// The unread notifications as a list with a "Mark read" button each (null when there are none).
export async function notificationsCard() {
  let got;
  try { got = await cachedGet('/api/notifications/?unread=true'); } catch (e) { return null; }
  const items = got.data.notifications.filter((n) => !n.read_at);
  if (!items.length) return null;
  const list = h('ul', { class: 'list' });
  const card = h('section', { class: 'card notifications', 'aria-label': 'Notifications' }, h('h2', {}, 'Notifications'), list);
  put(list, items.map((n) => {
    const li = h('li', { class: `notification ${n.kind}`, 'data-notification': n.id },
      h('strong', {}, n.message),
      h('div', { class: 'muted' }, fmtDate(n.created_at), n.device_id ? [' · ', h('a', { href: `#/device/${n.device_id}` }, 'Open the device')] : null),
      flagged(n),
      h('button', { class: 'btn secondary', type: 'button', onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await api('POST', `/api/notifications/${n.id}/read`, { json: {} });
          li.remove();
          if (!list.children.length) card.remove();
          refreshCount();
        } catch (e) { ev.target.disabled = false; li.append(h('div', { class: 'error' }, e.message)); }
      } }, 'Mark read'));
    return li;
  }));
  return card;
}

export const showsNotifications = () => S.user && S.user.role === 'technician';
