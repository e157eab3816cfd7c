package gen

import ()

// Roles is what a module's annotations say about who acts, for every role at
// once: LoadMachine builds one role's machine, while trace validation
// (statemachine/tracecheck) must tell apart the steps the logging roles
// record from the steps it fills in (the attacker's, the network's, those of
// roles that keep no log), and needs every action's role for that.
type Roles struct {
	// Actions maps each annotated action (its definition's name) to its role.
	Actions map[string]string
	// Events maps each annotated action to the name of its @event.
	Events map[string]string
	// Vars maps each annotated variable to the roles owning it.
	Vars map[string][]string
}

// LoadRoles reads the annotations of <module>.tla under specDir with the
// same scanner as LoadMachine. Malformed annotations come back as
// diagnostics, as they do from LoadMachine.
func LoadRoles(specDir, module string) (*Roles, []Diag, error) {
	file, src, err := readModule(specDir, module)
	if err != nil {
		return nil, nil, err
	}
	ann, diags := scanAnnotations(file, src)
	r := &Roles{Actions: map[string]string{}, Events: map[string]string{}, Vars: map[string][]string{}}
	for name, a := range ann.Actions {
		r.Actions[name] = a.Role
		r.Events[name] = a.Event
	}
	for name, v := range ann.Vars {
		r.Vars[name] = append([]string(nil), v.Roles...)
	}
	return r, diags, nil
}
