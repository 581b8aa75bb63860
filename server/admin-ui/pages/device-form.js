// The device fields form shared by "add a device" and the device page.
import { checkbox, field, formValues, h, input, select } from '../dom.js';

export const VENDORS = ['yealink', 'polycom', 'sangoma-p', 'sangoma-s'];

export function deviceForm({ users, locations, submitText, withMac, device = {} }) {
  return h(
    'form',
    { class: 'form-grid' },
    withMac ? field('MAC address', input('mac', { required: true, maxlength: '17', placeholder: '00:15:65:aa:bb:cc', autocomplete: 'off' })) : null,
    field('Vendor', select('vendor', VENDORS.map((v) => [v, v]), device.vendor ?? 'yealink')),
    field('Model', input('model', { value: device.model ?? '', placeholder: 'T46U' })),
    field('Label', input('label', { value: device.label ?? '', placeholder: 'Desk 3.14' })),
    field('Owner', select('ownerExtension', [['', 'Nobody (unassigned)'], ...users.map((u) => [u.extension, `${u.extension} ${u.displayName}`])], device.ownerExtension)),
    field('Location', select('locationId', [['', 'No location'], ...locations.map((l) => [l.id, l.name])], device.locationId)),
    field('Hot desking enabled', checkbox('hotdeskEnabled', device.hotdeskEnabled ?? false)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitText)),
  );
}

/** The API body from the form: empty text fields become null. */
export function deviceBody(form, withMac) {
  const v = formValues(form);
  const body = {
    vendor: v.vendor,
    model: v.model || null,
    label: v.label || null,
    ownerExtension: v.ownerExtension || null,
    locationId: v.locationId ? Number(v.locationId) : null,
    hotdeskEnabled: v.hotdeskEnabled,
  };
  if (withMac) body.mac = v.mac;
  return body;
}
