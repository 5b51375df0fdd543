package clockifysim

// archivedFilter applies Clockify's archived parameter: omitted ⇒ archived and active, true ⇒
// archived only, false ⇒ active only.
func archivedFilter(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
	a, present, err := parseBool(req.query, "archived")
	if err != nil {
		return nil, err
	}
	if !present {
		return set, nil
	}
	return set.(itemSet).filter(func(it *item) bool { return it.archived == a }), nil
}
