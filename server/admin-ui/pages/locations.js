// Locations: name, address, emergency numbers and callback number (what a phone at that desk
// dials and announces in an emergency), and hot-desk devices that have no location.
import { api, canChange } from '../api.js';
import { busy, deviceLink, field, formValues, h, input, section, table, toast } from '../dom.js';

export async function render(ctx) {
  // Counts from the server's device summary, not every device's description fetched to be counted here.
  const [{ locations }, summary] = await Promise.all([api('GET', '/locations'), api('GET', '/devices/summary')]);
  const count = new Map(summary.byLocation.filter((l) => l.locationId !== null).map((l) => [l.locationId, l.devices]));
  const warned = summary.warnings;
  const editSlot = h('div');

  const edit = (l) => {
    editSlot.replaceChildren(section(`Edit ${l.name}`, locationForm(l, ctx)));
    editSlot.querySelector('input')?.focus();
  };
  const remove = (l, button) =>
    busy(button, null, async () => {
      if (!confirm(`Delete location ${l.name}?`)) return;
      await api('DELETE', `/locations/${l.id}`);
      await ctx.reload();
      toast('Location deleted');
    });

  return [
    h('h1', {}, 'Locations'),
    warned.count
      ? h(
          'div',
          { class: 'warning', role: 'note' },
          h('p', {}, h('strong', {}, `${warned.count} hot-desk device${warned.count === 1 ? ' has' : 's have'} no location`), ' — emergency calls from them carry no address.'),
          h('ul', {}, warned.sample.map((d) => h('li', {}, deviceLink(d.mac, d.label ? `${d.label} (${d.mac})` : undefined)))),
          warned.count > warned.sample.length ? h('p', {}, `…and ${warned.count - warned.sample.length} more.`) : null,
        )
      : null,
    table(
      [
        { label: 'Name', cell: (l) => l.name },
        { label: 'Address', cell: (l) => l.address ?? '' },
        { label: 'Emergency numbers', cell: (l) => l.emergencyNumbers.join(', ') },
        { label: 'Callback number', cell: (l) => l.callbackNumber ?? '' },
        { label: 'Devices', cell: (l) => String(count.get(l.id) ?? 0) },
        canChange() && {
          label: 'Actions',
          cell: (l) => {
            const e = h('button', { type: 'button', onclick: () => edit(l) }, 'Edit', h('span', { class: 'sr-only' }, ` ${l.name}`));
            const d = h('button', { type: 'button', class: 'danger subtle' }, 'Delete', h('span', { class: 'sr-only' }, ` ${l.name}`));
            d.addEventListener('click', () => remove(l, d));
            return h('div', { class: 'actions' }, e, d);
          },
        },
      ].filter(Boolean),
      locations,
      { empty: 'No locations yet. Add one so emergency calls carry an address.', label: 'Locations' },
    ),
    editSlot,
    canChange() ? section('Add a location', locationForm(null, ctx)) : null,
  ];
}

function locationForm(l, ctx) {
  const status = h('div');
  const form = h(
    'form',
    { class: 'form-grid' },
    field('Name', input('name', { required: true, maxlength: '100', value: l?.name ?? '' })),
    field('Address', input('address', { maxlength: '300', value: l?.address ?? '' })),
    field('Emergency numbers', input('emergencyNumbers', { value: (l?.emergencyNumbers ?? ['911']).join(', ') }), 'Comma-separated, e.g. 911, 933'),
    field('Callback number', input('callbackNumber', { value: l?.callbackNumber ?? '', inputmode: 'tel' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, l ? 'Save location' : 'Add location')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('button[type=submit]'), status, async () => {
      const v = formValues(form);
      const body = {
        name: v.name,
        address: v.address || null,
        emergencyNumbers: v.emergencyNumbers.split(/[\s,]+/).filter(Boolean),
        callbackNumber: v.callbackNumber || null,
      };
      if (l) await api('PATCH', `/locations/${l.id}`, { json: body });
      else await api('POST', '/locations', { json: body });
      await ctx.reload();
      toast(l ? 'Location saved' : 'Location added');
    });
  });
  return [status, form];
}
